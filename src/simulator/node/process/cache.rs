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
