//! Flink's memory model: how a JobManager or TaskManager process of a given
//! size is split, computed to the byte the way Flink does it, so the form
//! refuses what Flink would refuse to start with and shows the breakdown.
//!
//! Sources (apache/flink, release-1.20 and release-2.0; both agree and were
//! measured identical, see the tests):
//! - `flink-runtime/src/main/java/org/apache/flink/runtime/util/config/memory/ProcessMemoryUtils.java`:
//!   from the total process size, JVM overhead = fraction of it capped to
//!   [min, max]; metaspace fixed; refused when both exceed the process; total
//!   Flink memory = process − overhead − metaspace.
//! - `.../memory/taskmanager/TaskExecutorFlinkMemoryUtils.java`
//!   (`deriveFromTotalFlinkMemory`, task heap not configured): managed and
//!   network = fractions of total Flink memory capped to their ranges; task
//!   heap = the rest; refused when the rest would be negative.
//! - `.../memory/jobmanager/JobManagerFlinkMemoryUtils.java`
//!   (`deriveFromTotalFlinkMemory`): heap = total Flink memory − off-heap,
//!   refused unless it is positive; below 128 MiB
//!   (`JobManagerOptions.MIN_JVM_HEAP_SIZE`) Flink only warns.
//! - `flink-core/src/main/java/org/apache/flink/configuration/MemorySize.java`:
//!   `multiply` takes the fraction as a `double` through `BigDecimal` and
//!   truncates; fractions are `float` options, so 0.1 is 0.10000000149011612
//!   (hence 1280m gives 87241524 bytes of network, not 87241523).
//!   `toHumanReadableString` gives the "128.000mb (134217728 bytes)" of
//!   Flink's messages.
//! - Defaults: `flink-core/.../configuration/TaskManagerOptions.java` and
//!   `JobManagerOptions.java`. `taskmanager.memory.network.max` is unbounded
//!   (`MemorySize.MAX_VALUE`, documented "infinite") in 1.20 and 2.0, as
//!   measured; older 1.x releases capped it at 1g, which only matters above
//!   10 GiB of total Flink memory. The other releases the catalog offers
//!   (1.19, 2.1, 2.2) are taken to share these defaults, unmeasured.

use std::fmt;

use thiserror::Error;

/// One mebibyte, in bytes.
pub const MIB: u64 = 1 << 20;

/// A size derived as a fraction of a base, kept within `[min, max]` bytes
/// (Flink's `RangeFraction`). The fraction is a `float` option in Flink.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RangeFraction {
    /// Smallest size, bytes.
    pub min: u64,
    /// Largest size, bytes (`i64::MAX` for Flink's "infinite").
    pub max: u64,
    /// Share of the base, as Flink's `float` option.
    pub fraction: f32,
}

impl RangeFraction {
    /// `base × fraction` kept within `[min, max]` (`ProcessMemoryUtils.deriveWithFraction`).
    pub fn of(&self, base: u64) -> u64 {
        multiply(base, self.fraction).clamp(self.min, self.max)
    }
}

/// Flink's `MemorySize.MAX_VALUE` (`Long.MAX_VALUE` bytes).
const UNBOUNDED: u64 = i64::MAX as u64;

/// `MemorySize.multiply`: the `float` fraction widened to `double`, written
/// out as `Double.toString` does (`BigDecimal.valueOf`), multiplied exactly
/// and truncated.
fn multiply(bytes: u64, fraction: f32) -> u64 {
    // Rust's shortest round-trip form of a double is Java's for the
    // fractions here; it never uses an exponent.
    let text = f64::from(fraction).to_string();
    let (whole, decimals) = text.split_once('.').unwrap_or((&text, ""));
    let scale = 10u128.pow(decimals.len() as u32);
    let digits: u128 = format!("{whole}{decimals}").parse().unwrap_or(0);
    let product = u128::from(bytes) * digits / scale;
    u64::try_from(product).unwrap_or(UNBOUNDED)
}

/// A size the way Flink's messages write it (`MemorySize.toHumanReadableString`):
/// `0 bytes`, or `180.800mb (189582543 bytes)` (rounded half up).
pub fn human_readable(bytes: u64) -> String {
    const UNITS: [(u64, &str); 4] = [
        (1 << 40, "tb"),
        (1 << 30, "gb"),
        (1 << 20, "mb"),
        (1 << 10, "kb"),
    ];
    match UNITS.iter().find(|(size, _)| bytes > *size) {
        None => format!("{bytes} bytes"),
        Some((size, unit)) => {
            let size = u128::from(*size);
            let thousandths = (u128::from(bytes) * 2000 + size) / (2 * size);
            format!(
                "{}.{:03}{unit} ({bytes} bytes)",
                thousandths / 1000,
                thousandths % 1000
            )
        }
    }
}

/// Mebibytes, rounded, for the form's breakdowns (`26 MiB`).
pub fn mib(bytes: u64) -> String {
    format!("{} MiB", (bytes + MIB / 2) / MIB)
}

/// The JVM parts common to both processes (`JvmMetaspaceAndOverheadOptions`).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JvmOptions {
    /// `*.memory.jvm-metaspace.size`, bytes.
    pub metaspace: u64,
    /// `*.memory.jvm-overhead.{min,max,fraction}` of the process size.
    pub overhead: RangeFraction,
}

/// Defaults of both `jobmanager.memory.jvm-*` and `taskmanager.memory.jvm-*`:
/// metaspace 256m, overhead 0.1 of the process within [192m, 1g].
const JVM_DEFAULTS: JvmOptions = JvmOptions {
    metaspace: 256 * MIB,
    overhead: RangeFraction {
        min: 192 * MIB,
        max: 1024 * MIB,
        fraction: 0.1,
    },
};

/// A TaskManager's memory options (`TaskManagerOptions`), defaults by [`Default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TaskManagerOptions {
    /// Metaspace and overhead.
    pub jvm: JvmOptions,
    /// `taskmanager.memory.framework.heap.size` (128m), bytes.
    pub framework_heap: u64,
    /// `taskmanager.memory.framework.off-heap.size` (128m), bytes.
    pub framework_off_heap: u64,
    /// `taskmanager.memory.task.off-heap.size` (0), bytes.
    pub task_off_heap: u64,
    /// `taskmanager.memory.network.{min,max,fraction}` (64m, infinite, 0.1)
    /// of total Flink memory.
    pub network: RangeFraction,
    /// `taskmanager.memory.managed.fraction` (0.4) of total Flink memory.
    pub managed_fraction: f32,
}

impl Default for TaskManagerOptions {
    fn default() -> Self {
        TaskManagerOptions {
            jvm: JVM_DEFAULTS,
            framework_heap: 128 * MIB,
            framework_off_heap: 128 * MIB,
            task_off_heap: 0,
            network: RangeFraction {
                min: 64 * MIB,
                max: UNBOUNDED,
                fraction: 0.1,
            },
            managed_fraction: 0.4,
        }
    }
}

/// A JobManager's memory options (`JobManagerOptions`), defaults by [`Default`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct JobManagerOptions {
    /// Metaspace and overhead.
    pub jvm: JvmOptions,
    /// `jobmanager.memory.off-heap.size` (128m), bytes.
    pub off_heap: u64,
}

impl Default for JobManagerOptions {
    fn default() -> Self {
        JobManagerOptions {
            jvm: JVM_DEFAULTS,
            off_heap: 128 * MIB,
        }
    }
}

/// How Flink splits a TaskManager process, bytes each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TaskManagerMemory {
    /// `taskmanager.memory.process.size`.
    pub process: u64,
    /// JVM overhead.
    pub jvm_overhead: u64,
    /// JVM metaspace.
    pub jvm_metaspace: u64,
    /// Framework heap.
    pub framework_heap: u64,
    /// Framework off-heap.
    pub framework_off_heap: u64,
    /// Task heap: what the other parts leave.
    pub task_heap: u64,
    /// Task off-heap.
    pub task_off_heap: u64,
    /// Network buffers.
    pub network: u64,
    /// Managed memory (RocksDB, batch operators).
    pub managed: u64,
}

/// How Flink splits a JobManager process, bytes each.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct JobManagerMemory {
    /// `jobmanager.memory.process.size`.
    pub process: u64,
    /// JVM overhead.
    pub jvm_overhead: u64,
    /// JVM metaspace.
    pub jvm_metaspace: u64,
    /// JVM heap: what the other parts leave.
    pub heap: u64,
    /// Off-heap.
    pub off_heap: u64,
}

/// Why Flink refuses a process size; `Display` is Flink's own message (the
/// cause Flink 1.20 prefixes with "TaskManager memory configuration failed: "
/// or "JobManager memory configuration failed: "; Flink 2.0 prints the
/// JobManager's bare).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Error)]
pub enum MemoryModelError {
    /// Metaspace and overhead alone exceed the process (`ProcessMemoryUtils`).
    #[error(
        "Sum of configured JVM Metaspace ({}) and JVM Overhead ({}) exceed configured Total Process Memory ({}).",
        human_readable(*metaspace),
        human_readable(*overhead),
        human_readable(*process)
    )]
    JvmExceedsProcess {
        /// Metaspace, bytes.
        metaspace: u64,
        /// Overhead, bytes.
        overhead: u64,
        /// Process, bytes.
        process: u64,
    },
    /// A TaskManager's parts leave a negative task heap
    /// (`TaskExecutorFlinkMemoryUtils`); the breakdown is Flink's parts with
    /// `task_heap` set to 0.
    #[error(
        "Sum of configured Framework Heap Memory ({}), Framework Off-Heap Memory ({}), Task Off-Heap Memory ({}), Managed Memory ({}) and Network Memory ({}) exceed configured Total Flink Memory ({}).",
        human_readable(memory.framework_heap),
        human_readable(memory.framework_off_heap),
        human_readable(memory.task_off_heap),
        human_readable(memory.managed),
        human_readable(memory.network),
        human_readable(*total_flink)
    )]
    NoTaskHeap {
        /// The parts Flink derived; `task_heap` is 0.
        memory: TaskManagerMemory,
        /// Total Flink memory (process − metaspace − overhead), bytes.
        total_flink: u64,
    },
    /// A JobManager's off-heap leaves no heap (`JobManagerFlinkMemoryUtils`).
    #[error(
        "The configured Total Flink Memory ({}) is less than the configured Off-heap Memory ({}).",
        human_readable(*total_flink),
        human_readable(*off_heap)
    )]
    NoJobManagerHeap {
        /// Total Flink memory, bytes.
        total_flink: u64,
        /// Off-heap, bytes.
        off_heap: u64,
        /// JVM overhead, bytes (not in Flink's message).
        jvm_overhead: u64,
        /// JVM metaspace, bytes (not in Flink's message).
        jvm_metaspace: u64,
    },
}

/// Metaspace and overhead of a process of `process` bytes, and the total
/// Flink memory they leave.
fn jvm_parts(process: u64, jvm: &JvmOptions) -> Result<(u64, u64, u64), MemoryModelError> {
    let overhead = jvm.overhead.of(process);
    let rest = process
        .checked_sub(jvm.metaspace)
        .and_then(|rest| rest.checked_sub(overhead))
        .ok_or(MemoryModelError::JvmExceedsProcess {
            metaspace: jvm.metaspace,
            overhead,
            process,
        })?;
    Ok((overhead, jvm.metaspace, rest))
}

impl TaskManagerMemory {
    /// Splits a TaskManager of `process` bytes as Flink does, or Flink's refusal.
    pub fn derive(
        process: u64,
        options: &TaskManagerOptions,
    ) -> Result<TaskManagerMemory, MemoryModelError> {
        let (jvm_overhead, jvm_metaspace, total_flink) = jvm_parts(process, &options.jvm)?;
        let managed = multiply(total_flink, options.managed_fraction);
        let network = options.network.of(total_flink);
        let mut memory = TaskManagerMemory {
            process,
            jvm_overhead,
            jvm_metaspace,
            framework_heap: options.framework_heap,
            framework_off_heap: options.framework_off_heap,
            task_heap: 0,
            task_off_heap: options.task_off_heap,
            network,
            managed,
        };
        let others = memory.total_flink();
        match total_flink.checked_sub(others) {
            Some(task_heap) => {
                memory.task_heap = task_heap;
                Ok(memory)
            }
            None => Err(MemoryModelError::NoTaskHeap {
                memory,
                total_flink,
            }),
        }
    }

    /// The smallest process, in whole mebibytes, Flink accepts with `options`.
    pub fn minimum_process(options: &TaskManagerOptions) -> u64 {
        (1..)
            .map(|mebibytes| mebibytes * MIB)
            .find(|process| Self::derive(*process, options).is_ok())
            .unwrap_or(UNBOUNDED)
    }

    /// Total Flink memory: every part but metaspace and overhead.
    pub fn total_flink(&self) -> u64 {
        self.framework_heap
            + self.framework_off_heap
            + self.task_heap
            + self.task_off_heap
            + self.network
            + self.managed
    }

    /// The parts other than task heap, for a form's message:
    /// `JVM overhead 192 MiB, metaspace 256 MiB, framework 256 MiB, network 83 MiB, managed 333 MiB`.
    pub fn others(&self) -> String {
        let mut parts = vec![
            format!("JVM overhead {}", mib(self.jvm_overhead)),
            format!("metaspace {}", mib(self.jvm_metaspace)),
            format!(
                "framework {}",
                mib(self.framework_heap + self.framework_off_heap)
            ),
        ];
        if self.task_off_heap > 0 {
            parts.push(format!("task off-heap {}", mib(self.task_off_heap)));
        }
        parts.push(format!("network {}", mib(self.network)));
        parts.push(format!("managed {}", mib(self.managed)));
        parts.join(", ")
    }
}

impl fmt::Display for TaskManagerMemory {
    /// `task heap 538 MiB, managed 635 MiB, network 159 MiB, framework 256 MiB, metaspace 256 MiB, JVM overhead 205 MiB`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task heap {}", mib(self.task_heap))?;
        if self.task_off_heap > 0 {
            write!(f, ", task off-heap {}", mib(self.task_off_heap))?;
        }
        write!(
            f,
            ", managed {}, network {}, framework {}, metaspace {}, JVM overhead {}",
            mib(self.managed),
            mib(self.network),
            mib(self.framework_heap + self.framework_off_heap),
            mib(self.jvm_metaspace),
            mib(self.jvm_overhead)
        )
    }
}

impl JobManagerMemory {
    /// Splits a JobManager of `process` bytes as Flink does, or Flink's refusal.
    pub fn derive(
        process: u64,
        options: &JobManagerOptions,
    ) -> Result<JobManagerMemory, MemoryModelError> {
        let (jvm_overhead, jvm_metaspace, total_flink) = jvm_parts(process, &options.jvm)?;
        // Flink refuses total ≤ off-heap: the heap must be positive.
        let heap = total_flink
            .checked_sub(options.off_heap)
            .filter(|heap| *heap > 0)
            .ok_or(MemoryModelError::NoJobManagerHeap {
                total_flink,
                off_heap: options.off_heap,
                jvm_overhead,
                jvm_metaspace,
            })?;
        Ok(JobManagerMemory {
            process,
            jvm_overhead,
            jvm_metaspace,
            heap,
            off_heap: options.off_heap,
        })
    }

    /// The smallest process, in whole mebibytes, Flink accepts with `options`.
    pub fn minimum_process(options: &JobManagerOptions) -> u64 {
        (1..)
            .map(|mebibytes| mebibytes * MIB)
            .find(|process| Self::derive(*process, options).is_ok())
            .unwrap_or(UNBOUNDED)
    }

    /// Whether the heap is below the 128 MiB Flink warns about
    /// (`JobManagerOptions.MIN_JVM_HEAP_SIZE`).
    pub fn heap_below_recommended(&self) -> bool {
        self.heap < 128 * MIB
    }
}

impl fmt::Display for JobManagerMemory {
    /// `heap 1459 MiB, off-heap 128 MiB, metaspace 256 MiB, JVM overhead 205 MiB`
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "heap {}, off-heap {}, metaspace {}, JVM overhead {}",
            mib(self.heap),
            mib(self.off_heap),
            mib(self.jvm_metaspace),
            mib(self.jvm_overhead)
        )
    }
}

#[cfg(test)]
mod tests;
