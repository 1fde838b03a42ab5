//! The form's side of Flink's memory model: the JobManager and TaskManager
//! memory fields are refused when Flink would refuse to start with them, and
//! otherwise get a note with Flink's breakdown.
//!
//! Neither form has a free-form Flink configuration field, so the sizes are
//! split with Flink's default options (every offered release shares them,
//! see [`super::memory`]).

use serde_json::Value;

use super::memory::{
    JobManagerMemory, JobManagerOptions, MIB, MemoryModelError, TaskManagerMemory,
    TaskManagerOptions, mib,
};
use crate::catalog::quantity::{Quantity, QuantityKind};
use crate::catalog::{FieldErrors, Values};

/// The TaskManager memory field.
pub const TASK_MANAGER_MEMORY: &str = "taskManagerMemory";
/// The JobManager memory field.
pub const JOB_MANAGER_MEMORY: &str = "jobManagerMemory";

/// The process size Flink gets for a pod memory `text` (a Kubernetes
/// quantity), bytes: the render writes it in whole mebibytes, rounded
/// (`render::resource`), which the operator sets as `*.memory.process.size`.
pub fn process_size(text: &str) -> Option<u64> {
    let quantity = Quantity::parse(text, QuantityKind::Bytes).ok()?;
    Some((quantity.value / MIB as f64).round() as u64 * MIB)
}

/// The split of a TaskManager or JobManager of `text`, or Flink's refusal.
enum Split {
    TaskManager(Result<TaskManagerMemory, MemoryModelError>),
    JobManager(Result<JobManagerMemory, MemoryModelError>),
}

fn split(key: &str, text: &str) -> Option<Split> {
    let process = process_size(text)?;
    match key {
        TASK_MANAGER_MEMORY => Some(Split::TaskManager(TaskManagerMemory::derive(
            process,
            &TaskManagerOptions::default(),
        ))),
        JOB_MANAGER_MEMORY => Some(Split::JobManager(JobManagerMemory::derive(
            process,
            &JobManagerOptions::default(),
        ))),
        _ => None,
    }
}

/// Errors for the memory fields Flink would refuse, keyed by field, e.g.
/// `taskManagerMemory`: "900Mi leaves Flink no task heap: the other parts
/// take 949 MiB (JVM overhead 192 MiB, …). A TaskManager needs at least
/// 982Mi (managed memory and JVM overhead grow with it). Flink says:
/// TaskManager memory configuration failed: Sum of configured …".
pub fn memory_errors(values: &Values) -> FieldErrors {
    let mut errors = FieldErrors::new();
    for key in [JOB_MANAGER_MEMORY, TASK_MANAGER_MEMORY] {
        let Some(text) = values.get(key).and_then(Value::as_str) else {
            continue;
        };
        if let Some(message) = split(key, text).and_then(|split| refusal(text, split)) {
            errors.insert(key.to_owned(), message);
        }
    }
    errors
}

/// Flink's breakdown of an accepted memory field `key` holding `text`, e.g.
/// "Flink splits 2Gi into task heap 538 MiB, managed 635 MiB, …"; `None`
/// for other fields, unreadable values and refused sizes.
pub fn memory_note(key: &str, text: &str) -> Option<String> {
    match split(key, text)? {
        Split::TaskManager(Ok(memory)) => Some(format!("Flink splits {text} into {memory}.")),
        Split::JobManager(Ok(memory)) => {
            let warning = if memory.heap_below_recommended() {
                " Flink warns that the heap is below its recommended 128 MiB."
            } else {
                ""
            };
            Some(format!("Flink splits {text} into {memory}.{warning}"))
        }
        _ => None,
    }
}

fn refusal(text: &str, split: Split) -> Option<String> {
    let (what, heap, error, minimum) = match split {
        Split::TaskManager(Err(error)) => (
            "TaskManager",
            "task heap",
            error,
            TaskManagerMemory::minimum_process(&TaskManagerOptions::default()),
        ),
        Split::JobManager(Err(error)) => (
            "JobManager",
            "JobManager heap",
            error,
            JobManagerMemory::minimum_process(&JobManagerOptions::default()),
        ),
        _ => return None,
    };
    let (detail, growth) = match error {
        MemoryModelError::JvmExceedsProcess {
            metaspace,
            overhead,
            ..
        } => (
            format!(
                "JVM overhead {}, metaspace {}",
                mib(overhead),
                mib(metaspace)
            ),
            "",
        ),
        MemoryModelError::NoTaskHeap {
            memory,
            total_flink,
        } => {
            // What the other parts take, so that the reader's sum matches:
            // the process less Flink's total, plus Flink's parts.
            let taken = process_size(text)
                .unwrap_or_default()
                .saturating_sub(total_flink)
                + memory.total_flink();
            (
                format!(
                    "the other parts take {} MiB ({})",
                    taken.div_ceil(MIB),
                    memory.others()
                ),
                // Why the minimum is more than that sum.
                " (managed memory and JVM overhead grow with it)",
            )
        }
        MemoryModelError::NoJobManagerHeap {
            off_heap,
            jvm_overhead,
            jvm_metaspace,
            ..
        } => (
            format!(
                "JVM overhead {}, metaspace {}, off-heap {}",
                mib(jvm_overhead),
                mib(jvm_metaspace),
                mib(off_heap)
            ),
            "",
        ),
    };
    Some(format!(
        "{text} leaves Flink no {heap}: {detail}. A {what} needs at least {}Mi{growth}. \
         Flink says: {what} memory configuration failed: {error}",
        minimum / MIB
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn values(pairs: &[(&str, &str)]) -> Values {
        pairs
            .iter()
            .map(|(key, value)| ((*key).to_owned(), json!(value)))
            .collect()
    }

    #[test]
    fn a_900mi_task_manager_is_refused_with_the_breakdown_and_flinks_words() {
        let errors = memory_errors(&values(&[
            (TASK_MANAGER_MEMORY, "900Mi"),
            (JOB_MANAGER_MEMORY, "768Mi"),
        ]));
        assert_eq!(errors.keys().collect::<Vec<_>>(), [TASK_MANAGER_MEMORY]);
        assert_eq!(
            errors[TASK_MANAGER_MEMORY],
            "900Mi leaves Flink no task heap: the other parts take 949 MiB (JVM overhead 192 \
             MiB, metaspace 256 MiB, framework 256 MiB, network 64 MiB, managed 181 MiB). A \
             TaskManager needs at least 982Mi (managed memory and JVM overhead grow with it). \
             Flink says: TaskManager memory configuration failed: Sum of \
             configured Framework Heap Memory (128.000mb (134217728 bytes)), Framework Off-Heap \
             Memory (128.000mb (134217728 bytes)), Task Off-Heap Memory (0 bytes), Managed \
             Memory (180.800mb (189582543 bytes)) and Network Memory (64.000mb (67108864 bytes)) \
             exceed configured Total Flink Memory (452.000mb (473956352 bytes))."
        );
    }

    #[test]
    fn what_flink_accepts_passes_with_a_note() {
        let accepted = values(&[(TASK_MANAGER_MEMORY, "1Gi"), (JOB_MANAGER_MEMORY, "1G")]);
        assert!(memory_errors(&accepted).is_empty());
        assert_eq!(
            memory_note(TASK_MANAGER_MEMORY, "1280Mi").as_deref(),
            Some(
                "Flink splits 1280Mi into task heap 160 MiB, managed 333 MiB, network 83 MiB, \
                 framework 256 MiB, metaspace 256 MiB, JVM overhead 192 MiB."
            )
        );
        assert_eq!(
            memory_note(JOB_MANAGER_MEMORY, "2Gi").as_deref(),
            Some(
                "Flink splits 2Gi into heap 1459 MiB, off-heap 128 MiB, metaspace 256 MiB, \
                 JVM overhead 205 MiB."
            )
        );
        assert_eq!(memory_note(TASK_MANAGER_MEMORY, "900Mi"), None);
        assert_eq!(memory_note("taskSlots", "2"), None);
        assert_eq!(memory_note(TASK_MANAGER_MEMORY, "2Gb"), None);
    }

    #[test]
    fn a_job_manager_without_heap_is_refused() {
        let errors = memory_errors(&values(&[(JOB_MANAGER_MEMORY, "576Mi")]));
        assert_eq!(
            errors[JOB_MANAGER_MEMORY],
            "576Mi leaves Flink no JobManager heap: JVM overhead 192 MiB, metaspace 256 MiB, \
             off-heap 128 MiB. A JobManager needs at least 577Mi. Flink says: JobManager memory \
             configuration failed: The configured Total Flink Memory (128.000mb (134217728 \
             bytes)) is less than the configured Off-heap Memory (128.000mb (134217728 bytes))."
        );
    }

    #[test]
    fn sizes_are_the_mebibytes_the_render_writes() {
        assert_eq!(process_size("1G"), Some(954 * MIB));
        assert_eq!(process_size("2Gi"), Some(2048 * MIB));
        assert_eq!(process_size("x"), None);
    }
}
