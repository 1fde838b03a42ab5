//! Errors that stop the process before it serves: each printed as one line.

use thiserror::Error;

use crate::{cluster::ClusterError, store::StoreError};

/// Why `dataport` could not start or finish a command.
#[derive(Debug, Error)]
pub enum StartError {
    /// The database could not be opened or migrated.
    #[error("cannot open the database {url}: {source}")]
    Database {
        /// The URL with its password masked.
        url: String,
        /// What the driver said.
        source: StoreError,
    },
    /// The cluster could not be reached or configured.
    #[error("{0}")]
    Cluster(#[from] ClusterError),
    /// The listen address could not be bound.
    #[error("cannot listen on {addr}: {source}")]
    Listen {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// What the OS said.
        source: std::io::Error,
    },
    /// Serving stopped with an I/O error.
    #[error("server error: {0}")]
    Serve(std::io::Error),
    /// A command was refused (a bad name, a short password, an unknown user).
    #[error("{0}")]
    Refused(String),
    /// Anything printed to stdout could not be written or encoded.
    #[error("cannot print: {0}")]
    Print(String),
}
