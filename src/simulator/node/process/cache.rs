//! What `testenv/` built into the cache folder: each build in a folder of its
//! own, `<name>-<hash of its sources>/`, with the file that proves it finished.

use std::path::{Path, PathBuf};

/// The newest `<cache>/<prefix>…/<file>` (by the file's modification time),
/// with its folder's name; `None` when no build has it.
pub fn newest_build(cache: &Path, prefix: &str, file: &str) -> Option<(String, PathBuf)> {
    std::fs::read_dir(cache)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let folder = entry.file_name().to_string_lossy().into_owned();
            if !folder.starts_with(prefix) {
                return None;
            }
            let path = entry.path().join(file);
            let modified = path.metadata().and_then(|m| m.modified()).ok()?;
            Some((modified, folder, path))
        })
        .max()
        .map(|(_, folder, path)| (folder, path))
}

/// The newest release assembled from Maven in `cache`: of the
/// `<prefix><version>/` folders holding `lib/` and the `.pom-sha256` their
/// `assemble.sh` writes last, the highest version, as `(version, folder)`.
pub fn newest_release(cache: &Path, prefix: &str) -> Option<(String, PathBuf)> {
    let mut found: Vec<(Vec<u32>, String, PathBuf)> = std::fs::read_dir(cache)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let name = entry.file_name().to_string_lossy().into_owned();
            let version = name.strip_prefix(prefix)?.to_owned();
            let numbers: Vec<u32> = version.split('.').filter_map(|p| p.parse().ok()).collect();
            let home = entry.path();
            (!numbers.is_empty() && home.join(".pom-sha256").is_file() && home.join("lib").is_dir())
                .then_some((numbers, version, home))
        })
        .collect();
    found.sort();
    found.pop().map(|(_, version, home)| (version, home))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_newest_finished_build_is_taken() {
        let cache = tempfile::tempdir().expect("temp dir");
        for (folder, finished) in [("tool-aaa", true), ("tool-bbb", true), ("tool-ccc", false)] {
            std::fs::create_dir(cache.path().join(folder)).expect("folder");
            if finished {
                std::fs::write(cache.path().join(folder).join("tool.jar"), folder).expect("jar");
                std::thread::sleep(std::time::Duration::from_millis(20));
            }
        }
        let (folder, path) = newest_build(cache.path(), "tool-", "tool.jar").expect("a build");
        assert_eq!(folder, "tool-bbb");
        assert_eq!(path, cache.path().join("tool-bbb/tool.jar"));
        assert_eq!(newest_build(cache.path(), "other-", "tool.jar"), None);
    }
}
