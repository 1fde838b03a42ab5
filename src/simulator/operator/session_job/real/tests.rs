use super::*;

#[tokio::test]
async fn a_jar_is_fetched_from_a_file_path_and_other_schemes_are_named() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = dir.path().join("job.jar");
    std::fs::write(&path, b"PK jar").expect("write");
    let http = reqwest::Client::new();
    let uri = format!("file://{}", path.display());
    assert_eq!(fetch_jar(&http, &uri).await.expect("fetched"), b"PK jar");
    let missing = format!("file://{}/none.jar", dir.path().display());
    assert!(
        fetch_jar(&http, &missing)
            .await
            .unwrap_err()
            .starts_with("Could not fetch")
    );
    let s3 = fetch_jar(&http, "s3://bucket/job.jar").await.unwrap_err();
    assert!(s3.contains("'s3'"), "{s3}");
}
