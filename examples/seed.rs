//! Seeds a store with instances for the benchmarks, as an install would
//! write them (validated parameters, rendered objects, a revision and a
//! succeeded install operation), spread over apps and namespaces.
//!
//!     cargo run --release --example seed -- DATABASE_URL COUNT

use std::collections::BTreeMap;

use dataport::catalog::render::{RenderInput, Target};
use dataport::catalog::{self, FieldErrors};
use dataport::store::{InstanceStatus, NewInstance, Store};

/// Apps that install with their defaults alone (no references to resolve).
const APPS: [&str; 4] = ["zookeeper", "minio", "mysql", "hdfs"];

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let (Some(url), Some(count)) = (args.next(), args.next()) else {
        return Err("usage: seed DATABASE_URL COUNT".into());
    };
    let count: usize = count.parse()?;
    let store = Store::connect(&url).await?;
    let started = std::time::Instant::now();
    for index in 0..count {
        let app = catalog::find(APPS[index % APPS.len()]).ok_or("app not in the catalog")?;
        let version = app.default_version();
        let values = app
            .validate(version, &BTreeMap::new())
            .map_err(|errors: FieldErrors| format!("{}: {errors:?}", app.name))?;
        let id = uuid::Uuid::new_v4();
        let target = Target {
            id,
            app: app.name,
            name: format!("{}-{index:05}", app.name),
            namespace: format!("team-{:02}", index % 20),
            version: version.to_owned(),
        };
        let input = RenderInput {
            target: target.clone(),
            values: values.clone(),
            references: BTreeMap::new(),
        };
        let objects = (app.render)(&input)?;
        let (instance, _, operation) = store
            .create_instance(NewInstance {
                id,
                app: app.name.to_owned(),
                name: target.name,
                namespace: target.namespace,
                version: version.to_owned(),
                params: serde_json::to_value(&values)?,
                objects: serde_json::Value::from(objects),
                actor: "seed".to_owned(),
            })
            .await?;
        store.start_operation(operation.id).await?;
        store.finish_operation(operation.id, None).await?;
        store
            .set_status(instance.id, InstanceStatus::Running)
            .await?;
    }
    eprintln!(
        "seeded {count} instances in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    Ok(())
}
