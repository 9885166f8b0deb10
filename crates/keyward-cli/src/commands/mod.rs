//! One module per subcommand.

pub(crate) mod audit;
pub(crate) mod call;
pub(crate) mod check;
pub(crate) mod mock;
pub(crate) mod sign;
