//! MySQL, the database of StreamPark and the Hive metastore.

use crate::catalog::params::Param;
use crate::catalog::{AppDefinition, Category, no_rules};

pub(super) const DEFINITION: AppDefinition = AppDefinition {
    name: "mysql",
    display_name: "MySQL",
    icon: "My",
    category: Category::Database,
    summary: "Relational database (port 3306) for StreamPark and the Hive metastore.",
    description: "A single MySQL server in a StatefulSet with a persistent volume. Its root \
        and application passwords are generated at install and kept in a Kubernetes Secret.",
    versions: &["8.4", "8.0"],
    dependencies: &[],
    web_ui: None,
    homepage: "https://www.mysql.com/",
    params: &[
        Param::cpu("cpu", "CPU", "1", "Cores of the MySQL server."),
        Param::bytes(
            "memory",
            "Memory",
            "1Gi",
            ("512Mi", "64Gi"),
            "Memory of the MySQL server.",
        ),
        Param::bytes(
            "storage",
            "Storage",
            "20Gi",
            ("1Gi", "10Ti"),
            "Persistent volume of the MySQL server.",
        ),
        Param::secret(
            "rootPassword",
            "Root password",
            "Kept in a Secret; leave empty to generate one.",
        ),
    ],
    rules: no_rules,
};
