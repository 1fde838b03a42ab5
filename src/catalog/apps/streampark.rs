//! Apache StreamPark, a console for developing and running Flink jobs.

use crate::catalog::params::Param;
use crate::catalog::{AppDefinition, Category, Dependency, Need, no_rules};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "streampark",
    display_name: "Apache StreamPark",
    icon: "SP",
    category: Category::Development,
    summary: "A web console to develop, deploy and watch Flink jobs.",
    description: "StreamPark gives data teams a console to write Flink SQL and JAR jobs, \
        deploy them to Flink clusters, and follow their state, checkpoints and alerts. It \
        keeps its projects and job history in MySQL.",
    versions: &["2.1.5"],
    dependencies: &[Dependency {
        app: "mysql",
        need: Need::Required,
        purpose: "StreamPark's own database",
    }],
    web_ui: Some("StreamPark console (port 10000)"),
    homepage: "https://streampark.apache.org/",
    params: &[
        Param::reference(
            "mysql",
            "MySQL",
            "mysql",
            &[],
            "The MySQL instance that holds StreamPark's database.",
        ),
        Param::cpu("cpu", "CPU", "1", "Cores of the StreamPark console."),
        Param::bytes(
            "memory",
            "Memory",
            "2Gi",
            ("1Gi", "32Gi"),
            "Memory of the StreamPark console.",
        ),
    ],
    rules: no_rules,
};
