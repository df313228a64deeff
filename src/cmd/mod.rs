//! One module per command or command group; each exposes its clap
//! arguments and a `run` that returns an [`Outcome`](crate::cli::Outcome).

pub mod append;
pub mod audit;
pub mod check;
pub mod compact;
pub mod demo;
pub mod evidence;
pub mod export;
pub mod init;
pub mod keygen;
pub mod note;
pub mod proof;
pub mod rebuild;
pub mod report;
pub mod statement;
pub mod step;
