//! dataport: a web portal that installs and runs a streaming data platform
//! (Apache Flink and what it depends on) on Kubernetes from the browser.
//!
//! Calls go one way: [`http`] → [`service`] → [`catalog`] (pure) / [`store`]
//! (sqlx) / [`cluster`] (kube). The [`simulator`] is a separate tool that
//! plays a kubelet and the Flink operator on a control plane that has neither.

pub mod admin;
pub mod catalog;
pub mod cluster;
pub mod config;
pub mod crd;
pub mod error;
pub mod http;
pub mod service;
pub mod simulator;
pub mod store;
