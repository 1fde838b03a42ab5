//! The figures below are what Flink itself printed, not computed here: Flink
//! 1.20.0 and 2.0.0 (the jars assembled in ~/.cache/dataport/flink-<v>/lib)
//! ran `java -cp "lib/*" org.apache.flink.runtime.util.bash.BashJavaUtils
//! GET_TM_RESOURCE_PARAMS --configDir DIR` (and `GET_JM_RESOURCE_PARAMS`)
//! with a config.yaml holding only `taskmanager.memory.process.size: <size>`
//! (or `jobmanager.memory.process.size`), on 2026-11-30. Both releases
//! printed the same bytes for every size.

use super::*;

/// `taskmanager.memory.process.size` → jvm-overhead, network, managed and
/// task heap as Flink printed them (`-D taskmanager.memory.*=<n>b`);
/// metaspace 268435456, framework heap and off-heap 134217728, task
/// off-heap 0 for every size.
const TASK_MANAGERS: [(&str, u64, u64, u64, u64, u64); 5] = [
    // size, process bytes, overhead, network, managed, task heap
    ("1g", 1 << 30, 201326592, 67108864, 241591914, 26843542),
    (
        "1280m",
        1280 * MIB,
        201326592,
        87241524,
        348966098,
        167772154,
    ),
    ("2g", 2 << 30, 214748368, 166429984, 665719939, 563714445),
    ("4g", 4 << 30, 429496736, 359703515, 1438814063, 1530082070),
    (
        "16g",
        16 << 30,
        1073741824,
        1583769214,
        6335076856,
        7650410378,
    ),
];

/// `jobmanager.memory.process.size` → jvm-overhead and heap as Flink printed
/// them; metaspace 268435456 and off-heap 134217728 for every size.
const JOB_MANAGERS: [(&str, u64, u64, u64); 7] = [
    // size, process bytes, overhead, heap
    ("577m", 577 * MIB, 201326592, 1048576),
    ("600m", 600 * MIB, 201326592, 25165824),
    ("768m", 768 * MIB, 201326592, 201326592),
    ("1g", 1 << 30, 201326592, 469762048),
    ("2g", 2 << 30, 214748368, 1530082096),
    ("4g", 4 << 30, 429496736, 3462817376),
    ("16g", 16 << 30, 1073741824, 15703474176),
];

#[test]
fn task_managers_split_as_flink_splits_them() {
    for (size, process, overhead, network, managed, task_heap) in TASK_MANAGERS {
        let memory = TaskManagerMemory::derive(process, &TaskManagerOptions::default())
            .unwrap_or_else(|e| panic!("{size}: {e}"));
        assert_eq!(
            memory,
            TaskManagerMemory {
                process,
                jvm_overhead: overhead,
                jvm_metaspace: 268435456,
                framework_heap: 134217728,
                framework_off_heap: 134217728,
                task_heap,
                task_off_heap: 0,
                network,
                managed,
            },
            "{size}"
        );
        assert_eq!(
            memory.total_flink() + overhead + 268435456,
            process,
            "{size}"
        );
    }
}

#[test]
fn job_managers_split_as_flink_splits_them() {
    for (size, process, overhead, heap) in JOB_MANAGERS {
        let memory = JobManagerMemory::derive(process, &JobManagerOptions::default())
            .unwrap_or_else(|e| panic!("{size}: {e}"));
        assert_eq!(
            memory,
            JobManagerMemory {
                process,
                jvm_overhead: overhead,
                jvm_metaspace: 268435456,
                heap,
                off_heap: 134217728,
            },
            "{size}"
        );
    }
}

#[test]
fn a_900m_task_manager_is_refused_in_flinks_words() {
    // Flink 1.20.0 and 2.0.0, process size 900m: "TaskManager memory
    // configuration failed: " and then this cause.
    let refusal = TaskManagerMemory::derive(900 * MIB, &TaskManagerOptions::default()).unwrap_err();
    assert_eq!(
        refusal.to_string(),
        "Sum of configured Framework Heap Memory (128.000mb (134217728 bytes)), Framework \
         Off-Heap Memory (128.000mb (134217728 bytes)), Task Off-Heap Memory (0 bytes), Managed \
         Memory (180.800mb (189582543 bytes)) and Network Memory (64.000mb (67108864 bytes)) \
         exceed configured Total Flink Memory (452.000mb (473956352 bytes))."
    );
}

#[test]
fn too_small_job_managers_are_refused_in_flinks_words() {
    let options = JobManagerOptions::default();
    // Flink 1.20.0 and 2.0.0, process size 576m: no heap left.
    assert_eq!(
        JobManagerMemory::derive(576 * MIB, &options)
            .unwrap_err()
            .to_string(),
        "The configured Total Flink Memory (128.000mb (134217728 bytes)) is less than the \
         configured Off-heap Memory (128.000mb (134217728 bytes))."
    );
    // Process size 400m: metaspace and overhead alone do not fit.
    assert_eq!(
        JobManagerMemory::derive(400 * MIB, &options)
            .unwrap_err()
            .to_string(),
        "Sum of configured JVM Metaspace (256.000mb (268435456 bytes)) and JVM Overhead \
         (192.000mb (201326592 bytes)) exceed configured Total Process Memory (400.000mb \
         (419430400 bytes))."
    );
}

#[test]
fn the_smallest_sizes_flink_accepts() {
    // Flink 1.20.0 accepted 982m and refused 981m for a TaskManager; it
    // accepted 577m and refused 576m for a JobManager.
    assert_eq!(
        TaskManagerMemory::minimum_process(&TaskManagerOptions::default()),
        982 * MIB
    );
    assert_eq!(
        JobManagerMemory::minimum_process(&JobManagerOptions::default()),
        577 * MIB
    );
}

#[test]
fn sizes_read_like_flinks_messages() {
    assert_eq!(human_readable(0), "0 bytes");
    assert_eq!(human_readable(1024), "1024 bytes");
    assert_eq!(human_readable(1025), "1.001kb (1025 bytes)");
    assert_eq!(human_readable(189582543), "180.800mb (189582543 bytes)");
    // Half up, like Java's %.3f: 1.0625 MiB.
    assert_eq!(human_readable(1114112), "1.063mb (1114112 bytes)");
    assert_eq!(human_readable(1 << 30), "1024.000mb (1073741824 bytes)");
}

#[test]
fn breakdowns_name_every_part() {
    let memory = TaskManagerMemory::derive(1280 * MIB, &TaskManagerOptions::default()).unwrap();
    assert_eq!(
        memory.others(),
        "JVM overhead 192 MiB, metaspace 256 MiB, framework 256 MiB, network 83 MiB, managed 333 MiB"
    );
    assert_eq!(
        memory.to_string(),
        "task heap 160 MiB, managed 333 MiB, network 83 MiB, framework 256 MiB, metaspace 256 MiB, JVM overhead 192 MiB"
    );
    let job_manager = JobManagerMemory::derive(600 * MIB, &JobManagerOptions::default()).unwrap();
    assert!(job_manager.heap_below_recommended());
    assert_eq!(
        job_manager.to_string(),
        "heap 24 MiB, off-heap 128 MiB, metaspace 256 MiB, JVM overhead 192 MiB"
    );
}
