//! Command line and environment: one `clap` parser for every subcommand.

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// The `dataport` command line.
#[derive(Debug, Parser)]
#[command(
    name = "dataport",
    version,
    about,
    args_conflicts_with_subcommands = true
)]
pub struct Cli {
    /// What to run; `serve` when left out.
    #[command(subcommand)]
    pub command: Option<Command>,

    /// Flags of `serve`, accepted without the subcommand's name.
    #[command(flatten)]
    pub serve: ServeConfig,
}

impl Cli {
    /// The subcommand to run, with `serve` standing in for none.
    pub fn into_command(self) -> Command {
        self.command.unwrap_or(Command::Serve(self.serve))
    }
}

/// The subcommands of `dataport`.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the portal (the default).
    Serve(ServeConfig),
    /// Print the Flink CRDs (FlinkDeployment, FlinkSessionJob) as YAML, or install them.
    Crds(CrdsArgs),
    /// Play a kubelet and the Flink operator on a control plane that has neither.
    Simulate(SimulateArgs),
    /// Manage the portal's users from its machine (the first admin, a lost password).
    #[command(subcommand)]
    User(UserCommand),
    /// Make API tokens from the portal's machine (for automation).
    #[command(subcommand)]
    Token(TokenCommand),
}

/// `dataport user ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum UserCommand {
    /// Add a user; the password is read from `DATAPORT_PASSWORD` or, without
    /// it, from the first line of standard input.
    Add(UserAddArgs),
}

/// Flags of `dataport user add`.
#[derive(Debug, Clone, Args)]
pub struct UserAddArgs {
    /// Login name.
    pub name: String,
    /// Make the user an admin (same as `--role admin`).
    #[arg(long, conflicts_with = "role")]
    pub admin: bool,
    /// viewer, operator or admin.
    #[arg(long, default_value = "viewer")]
    pub role: String,
    /// The portal's database.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://dataport.db")]
    pub database_url: String,
}

/// `dataport token ...`.
#[derive(Debug, Clone, Subcommand)]
pub enum TokenCommand {
    /// Make an API token for a user and print it (once) on standard output.
    Add(TokenAddArgs),
}

/// Flags of `dataport token add`.
#[derive(Debug, Clone, Args)]
pub struct TokenAddArgs {
    /// Whose token it is.
    #[arg(long)]
    pub user: String,
    /// What the token is for.
    #[arg(long, default_value = "cli")]
    pub name: String,
    /// The portal's database.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://dataport.db")]
    pub database_url: String,
}

/// Everything `dataport serve` is configured with.
#[derive(Debug, Clone, Args)]
pub struct ServeConfig {
    /// Address the portal listens on.
    #[arg(long, env = "DATAPORT_LISTEN", default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,

    /// Where the portal keeps what users asked for: `sqlite://FILE` (created if
    /// missing) or `postgres://USER:PASSWORD@HOST/DB`.
    #[arg(long, env = "DATABASE_URL", default_value = "sqlite://dataport.db")]
    pub database_url: String,

    /// Kubeconfig of the cluster to drive; without one the portal serves the
    /// catalog and reports the cluster as not configured.
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Address users open Grafana at, for the dashboard links; without it, a
    /// monitoring instance's own public address, else its in-cluster one.
    #[arg(long, env = "DATAPORT_GRAFANA_URL")]
    pub grafana_url: Option<String>,

    /// The cluster is dataport's local test control plane: every page says so
    /// in a banner, and what runs for real. `simulated` (also `true`, or the
    /// bare flag): the node simulates every pod; `real-flink`: its node runs
    /// Flink's pods as real Flink processes.
    #[arg(
        long,
        env = "DATAPORT_LOCAL_CLUSTER",
        value_enum,
        default_value = "off",
        num_args = 0..=1,
        default_missing_value = "simulated"
    )]
    pub local_cluster: LocalCluster,

    /// Run as one of several replicas on one database: only the holder of
    /// the Lease runs the worker and the status sync. Without it, this
    /// replica always does.
    #[arg(long, env = "DATAPORT_LEADER_ELECTION")]
    pub leader_election: bool,

    /// Namespace of the leader election's Lease (the pod's own in a Deployment).
    #[arg(long, env = "DATAPORT_LEASE_NAMESPACE", default_value = "default")]
    pub lease_namespace: String,

    /// Name of the leader election's Lease.
    #[arg(long, env = "DATAPORT_LEASE_NAME", default_value = "dataport-leader")]
    pub lease_name: String,

    /// Seconds a leader keeps the Lease without renewing it: a killed leader
    /// is replaced within this time.
    #[arg(long, env = "DATAPORT_LEASE_SECONDS", default_value_t = 15,
          value_parser = clap::value_parser!(u64).range(3..=300))]
    pub lease_seconds: u64,

    /// This replica's identity in the election; by default `$HOSTNAME` (the
    /// pod name in a Deployment), else a random one.
    #[arg(long, env = "DATAPORT_IDENTITY")]
    pub identity: Option<String>,

    /// Namespaces instances may be installed into (comma-separated); any
    /// valid namespace when empty.
    #[arg(long, env = "DATAPORT_ALLOWED_NAMESPACES", value_delimiter = ',')]
    pub allowed_namespaces: Vec<String>,

    /// How apps' web interfaces are reached for the proxy at
    /// `/instances/{id}/ui/{name}/`: `api-server` (through the API server's
    /// service proxy, for a portal outside the cluster), `service` (straight
    /// to the Service's cluster DNS name, for a portal inside it), or `auto`:
    /// `service` when running in a pod without a kubeconfig, else `api-server`.
    #[arg(long, env = "DATAPORT_WEBUI_DIAL", value_enum, default_value = "auto")]
    pub webui_dial: WebUiDial,

    /// Mark session cookies Secure: set it when users reach the portal over
    /// TLS (an Ingress or a proxy terminating HTTPS).
    #[arg(long, env = "DATAPORT_SECURE_COOKIES")]
    pub secure_cookies: bool,

    /// Name of the first admin, created at start when there is no user yet
    /// (with `DATAPORT_ADMIN_PASSWORD`). There is never a default password.
    #[arg(long, env = "DATAPORT_ADMIN_USER")]
    pub admin_user: Option<String>,

    /// Password of that first admin; read from the environment only.
    #[arg(skip = std::env::var("DATAPORT_ADMIN_PASSWORD").ok())]
    pub admin_password: Option<String>,
}

/// Flags of `dataport crds`.
#[derive(Debug, Clone, Args)]
pub struct CrdsArgs {
    /// Apply the CRDs to the cluster instead of printing them, and wait until
    /// the API server serves them.
    #[arg(long)]
    pub install: bool,

    /// With `--install`: install the CRDs of the YAML files in this folder
    /// (e.g. an operator release's `crds/`) instead of dataport's, with the
    /// same rule: a cluster's CRD is never made narrower.
    #[arg(long, requires = "install", value_name = "DIR")]
    pub from: Option<PathBuf>,

    /// Kubeconfig of the cluster to install into.
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,
}

/// Flags of `dataport simulate`.
#[derive(Debug, Clone, Args)]
pub struct SimulateArgs {
    /// Kubeconfig of the control plane to play on.
    #[arg(long, env = "KUBECONFIG")]
    pub kubeconfig: Option<PathBuf>,

    /// Name of the fake node that runs every pod.
    #[arg(long, default_value = "dataport-sim-node")]
    pub node_name: String,

    /// Run the pods of images the node knows (the official `flink` image) as
    /// real local processes (the process node); every other pod stays simulated.
    #[arg(long)]
    pub run_processes: bool,

    /// Folder of the process node's pod sandboxes (volumes, logs).
    #[arg(long, default_value = ".dataport/node")]
    pub process_root: PathBuf,

    /// Folder holding the Flink releases assembled by testenv/flink/assemble.sh
    /// (`flink-<release>/`); default `$DATAPORT_CACHE` or `~/.cache/dataport`.
    #[arg(long, env = "DATAPORT_CACHE")]
    pub flink_cache: Option<PathBuf>,

    /// The Java 17 launcher the process node runs Flink with.
    #[arg(long, default_value = "java")]
    pub java: PathBuf,
}

/// How apps' web interfaces are reached (see `--webui-dial`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum WebUiDial {
    /// `service` inside a pod without a kubeconfig, else `api-server`.
    #[default]
    Auto,
    /// Through the API server's service proxy.
    ApiServer,
    /// Straight to the Service's cluster DNS name.
    Service,
}

impl WebUiDial {
    /// `auto` decided: whether to dial Services directly, given whether a
    /// kubeconfig was given.
    pub fn direct(self, has_kubeconfig: bool) -> bool {
        match self {
            WebUiDial::Auto => {
                !has_kubeconfig && std::env::var_os("KUBERNETES_SERVICE_HOST").is_some()
            }
            WebUiDial::ApiServer => false,
            WebUiDial::Service => true,
        }
    }
}

/// What the portal's cluster is, for the banner.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, clap::ValueEnum)]
pub enum LocalCluster {
    /// A real cluster: no banner.
    #[default]
    #[value(alias = "false")]
    Off,
    /// The local test control plane; every pod simulated.
    #[value(alias = "true")]
    Simulated,
    /// The local test control plane; Flink's pods run as real Flink processes.
    RealFlink,
}

impl fmt::Display for ServeConfig {
    /// One line per setting, as printed at start-up: secrets masked.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "listen        = {}", self.listen)?;
        writeln!(f, "database_url  = {}", mask_password(&self.database_url))?;
        match &self.kubeconfig {
            Some(path) => writeln!(f, "kubeconfig    = {}", path.display())?,
            None => writeln!(f, "kubeconfig    = (none: cluster not configured)")?,
        }
        writeln!(
            f,
            "grafana_url   = {}",
            self.grafana_url
                .as_deref()
                .unwrap_or("(from the monitoring instance)")
        )?;
        writeln!(f, "local_cluster = {:?}", self.local_cluster)?;
        if self.allowed_namespaces.is_empty() {
            writeln!(f, "namespaces    = (any)")?;
        } else {
            writeln!(f, "namespaces    = {}", self.allowed_namespaces.join(", "))?;
        }
        writeln!(
            f,
            "webui_dial    = {}",
            if self.webui_dial.direct(self.kubeconfig.is_some()) {
                "service (cluster DNS)"
            } else {
                "api-server (service proxy)"
            }
        )?;
        writeln!(f, "secure_cookie = {}", self.secure_cookies)?;
        match (&self.admin_user, &self.admin_password) {
            (Some(name), Some(_)) => writeln!(f, "first admin   = {name} (password ****)")?,
            (Some(name), None) => writeln!(
                f,
                "first admin   = {name} (no DATAPORT_ADMIN_PASSWORD: not created)"
            )?,
            _ => {}
        }
        if self.leader_election {
            write!(
                f,
                "leader        = Lease {}/{} ({} s) as {}",
                self.lease_namespace,
                self.lease_name,
                self.lease_seconds,
                self.identity()
            )
        } else {
            write!(f, "leader        = always (no leader election)")
        }
    }
}

impl ServeConfig {
    /// This replica's identity in the leader election.
    pub fn identity(&self) -> String {
        self.identity
            .clone()
            .or_else(|| std::env::var("HOSTNAME").ok().filter(|h| !h.is_empty()))
            .unwrap_or_else(|| format!("dataport-{}", uuid::Uuid::new_v4().simple()))
    }
}

/// The URL with its password, if any, replaced by `****`.
pub fn mask_password(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            // Only fails for URLs that cannot have a password, ruled out above.
            let _ = parsed.set_password(Some("****"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_the_database_password() {
        assert_eq!(
            mask_password("postgres://dp:s3cret@db.example:5432/dataport"),
            "postgres://dp:****@db.example:5432/dataport"
        );
        assert_eq!(
            mask_password("sqlite://dataport.db"),
            "sqlite://dataport.db"
        );
    }

    #[test]
    fn serve_is_the_default_command() {
        let cli = Cli::parse_from(["dataport", "--listen", "127.0.0.1:9999"]);
        match cli.into_command() {
            Command::Serve(config) => assert_eq!(config.listen.port(), 9999),
            other => panic!("expected serve, got {other:?}"),
        }
    }
}
