//! MySQL, the database of StreamPark and the Hive metastore.

use crate::catalog::{AppDefinition, Category};

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
};
