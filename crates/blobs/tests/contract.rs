//! The blob stores' contract, written once against the `BlobStore` trait and
//! run on a local directory and on a real S3 server (SeaweedFS on loopback,
//! started by `scripts/test`; `KINOFLOW_TEST_S3_URL` names another).

use std::sync::{Arc, Once};
use std::time::Duration;

use kinoflow_blobs::{Access, BlobError, BlobStore, LocalBlobs, S3Blobs};
use sha2::{Digest, Sha256};
use tokio::io::AsyncReadExt;

/// The bucket `scripts/seaweedfs` creates, with the keys it is given.
const DEFAULT_S3_URL: &str = "s3://kinoflow-test?endpoint=http://127.0.0.1:8333";

fn s3_url() -> String {
    static KEYS: Once = Once::new();
    KEYS.call_once(|| {
        if std::env::var_os("AWS_ACCESS_KEY_ID").is_none() {
            std::env::set_var("AWS_ACCESS_KEY_ID", "kinoflow-test");
            std::env::set_var("AWS_SECRET_ACCESS_KEY", "kinoflow-test-secret");
        }
    });
    std::env::var("KINOFLOW_TEST_S3_URL").unwrap_or_else(|_| DEFAULT_S3_URL.to_owned())
}

/// Every backend, each empty: a fresh directory, a fresh prefix in the bucket.
async fn backends() -> (tempfile::TempDir, Vec<(&'static str, Arc<dyn BlobStore>)>) {
    let dir = tempfile::tempdir().unwrap();
    let local = LocalBlobs::open(dir.path()).await.unwrap();
    let (base, query) = s3_url()
        .split_once('?')
        .map(|(base, query)| (base.to_owned(), format!("?{query}")))
        .unwrap_or_else(|| (s3_url(), String::new()));
    let prefix = format!("contract-{}", uuid::Uuid::new_v4().simple());
    let s3 = S3Blobs::open_url(&format!("{base}/{prefix}{query}")).unwrap();
    s3.ping().await.unwrap_or_else(|e| {
        panic!(
            "the S3 server at {} is not reachable ({e}); scripts/test starts it",
            s3_url()
        )
    });
    (dir, vec![("local", Arc::new(local)), ("s3", Arc::new(s3))])
}

async fn read_all(
    blobs: &dyn BlobStore,
    key: &str,
    range: Option<std::ops::Range<u64>>,
) -> Vec<u8> {
    let mut bytes = Vec::new();
    blobs
        .get(key, range)
        .await
        .unwrap()
        .read_to_end(&mut bytes)
        .await
        .unwrap();
    bytes
}

#[tokio::test]
async fn put_records_size_and_sha256_and_reads_ranges() {
    let (_dir, backends) = backends().await;
    for (name, blobs) in backends {
        let meta = blobs
            .put("a/b.txt", &mut &b"hello world"[..], None)
            .await
            .unwrap();
        assert_eq!(meta.size, 11, "{name}");
        assert_eq!(
            meta.sha256, "b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9",
            "{name}"
        );
        assert_eq!(
            read_all(&*blobs, "a/b.txt", Some(6..11)).await,
            b"world",
            "{name}"
        );
        assert_eq!(
            read_all(&*blobs, "a/b.txt", None).await,
            b"hello world",
            "{name}"
        );
        assert_eq!(blobs.size("a/b.txt").await.unwrap(), Some(11), "{name}");
        blobs
            .put("a/b.txt", &mut &b"replaced"[..], None)
            .await
            .unwrap();
        assert_eq!(
            read_all(&*blobs, "a/b.txt", None).await,
            b"replaced",
            "{name}"
        );
        blobs.delete("a/b.txt").await.unwrap();
        assert_eq!(blobs.size("a/b.txt").await.unwrap(), None, "{name}");
        blobs.delete("a/b.txt").await.unwrap();
    }
}

#[tokio::test]
async fn delete_prefix_removes_only_what_is_under_it() {
    let (_dir, backends) = backends().await;
    for (name, blobs) in backends {
        blobs.put("p/1/x", &mut &b"1"[..], None).await.unwrap();
        blobs.put("p/2/y", &mut &b"2"[..], None).await.unwrap();
        blobs.put("pq/z", &mut &b"3"[..], None).await.unwrap();
        blobs.delete_prefix("p").await.unwrap();
        assert_eq!(blobs.size("p/1/x").await.unwrap(), None, "{name}");
        assert_eq!(blobs.size("p/2/y").await.unwrap(), None, "{name}");
        assert_eq!(blobs.size("pq/z").await.unwrap(), Some(1), "{name}");
        blobs.delete_prefix("nothing-here").await.unwrap();
    }
}

#[tokio::test]
async fn rename_moves_and_copies_measure_what_they_wrote() {
    let (_dir, backends) = backends().await;
    for (name, blobs) in backends {
        blobs.put("a/one", &mut &b"first"[..], None).await.unwrap();
        blobs.put("b/two", &mut &b"old"[..], None).await.unwrap();
        blobs.rename("a/one", "b/two").await.unwrap();
        assert_eq!(blobs.size("a/one").await.unwrap(), None, "{name}");
        assert_eq!(read_all(blobs.as_ref(), "b/two", None).await, b"first");
        let missing = blobs.rename("a/one", "c").await;
        assert!(matches!(missing, Err(BlobError::NotFound(_))), "{name}");

        let copied = kinoflow_blobs::copy_measured(blobs.as_ref(), "b/two", "c/three", None)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(copied.size, 5, "{name}");
        assert_eq!(copied.sha256, hex::encode(Sha256::digest(b"first")));
        assert_eq!(read_all(blobs.as_ref(), "c/three", None).await, b"first");
        let capped = kinoflow_blobs::copy_measured(blobs.as_ref(), "b/two", "d", Some(4)).await;
        assert!(
            matches!(capped, Err(BlobError::TooLarge { limit: 4 })),
            "{name}"
        );
        assert_eq!(blobs.size("d").await.unwrap(), None, "{name}");
        let none = kinoflow_blobs::copy_measured(blobs.as_ref(), "nothing", "e", None).await;
        assert!(matches!(none, Ok(None)), "{name}");
    }
}

#[tokio::test]
async fn a_large_object_streams_through_in_parts() {
    let (_dir, backends) = backends().await;
    // Larger than an S3 part, so it goes up as a multipart upload.
    let data: Vec<u8> = (0..20 * 1024 * 1024 + 123)
        .map(|i| (i % 251) as u8)
        .collect();
    let expected = hex::encode(Sha256::digest(&data));
    for (name, blobs) in backends {
        let meta = blobs
            .put("big/video.mp4", &mut &data[..], None)
            .await
            .unwrap();
        assert_eq!(meta.size, data.len() as u64, "{name}");
        assert_eq!(meta.sha256, expected, "{name}");
        let middle = 8 * 1024 * 1024 - 10..8 * 1024 * 1024 + 10;
        assert_eq!(
            read_all(&*blobs, "big/video.mp4", Some(middle.clone())).await,
            &data[middle.start as usize..middle.end as usize],
            "{name}"
        );
        let scratch = tempfile::tempdir().unwrap();
        let path = blobs
            .local_path("big/video.mp4", scratch.path())
            .await
            .unwrap();
        assert_eq!(std::fs::read(path).unwrap(), data, "{name}");
    }
}

#[tokio::test]
async fn a_write_over_the_limit_stores_nothing() {
    let (_dir, backends) = backends().await;
    let data = vec![7u8; 9 * 1024 * 1024];
    for (name, blobs) in backends {
        let err = blobs
            .put("big", &mut &data[..], Some(10))
            .await
            .unwrap_err();
        assert!(
            matches!(err, BlobError::TooLarge { limit: 10 }),
            "{name}: {err}"
        );
        let err = blobs
            .put("bigger", &mut &data[..], Some(8 * 1024 * 1024 + 1))
            .await
            .unwrap_err();
        assert!(matches!(err, BlobError::TooLarge { .. }), "{name}: {err}");
        assert_eq!(blobs.size("big").await.unwrap(), None, "{name}");
        assert_eq!(blobs.size("bigger").await.unwrap(), None, "{name}");
    }
}

#[tokio::test]
async fn missing_objects_and_bad_keys_are_refused_clearly() {
    let (_dir, backends) = backends().await;
    let scratch = tempfile::tempdir().unwrap();
    for (name, blobs) in backends {
        assert!(
            matches!(blobs.get("none", None).await, Err(BlobError::NotFound(_))),
            "{name}"
        );
        assert!(
            matches!(
                blobs.local_path("none", scratch.path()).await,
                Err(BlobError::NotFound(_))
            ),
            "{name}"
        );
        for key in ["../x", "a/../../x", "/abs", "a//b", "a/./b", "sp ace", ""] {
            assert!(
                matches!(
                    blobs.put(key, &mut &b"x"[..], None).await,
                    Err(BlobError::InvalidKey(_))
                ),
                "{name}: {key:?}"
            );
        }
        blobs.ping().await.unwrap();
    }
}

#[tokio::test]
async fn s3_presigned_urls_read_and_write_and_refuse_tampering() {
    let (_dir, backends) = backends().await;
    let http = reqwest::Client::new();
    for (name, blobs) in backends {
        let hour = Duration::from_secs(3600);
        let Some(put_url) = blobs
            .presigned_url(Access::Write, "up/file.bin", hour)
            .await
            .unwrap()
        else {
            assert_eq!(name, "local", "only local storage signs no URLs of its own");
            continue;
        };
        let sent = http
            .put(&put_url)
            .body("straight to storage")
            .send()
            .await
            .unwrap();
        assert!(sent.status().is_success(), "{}", sent.text().await.unwrap());
        assert_eq!(
            read_all(&*blobs, "up/file.bin", None).await,
            b"straight to storage"
        );

        let get_url = blobs
            .presigned_url(Access::Read, "up/file.bin", hour)
            .await
            .unwrap()
            .unwrap();
        let got = http.get(&get_url).send().await.unwrap();
        assert_eq!(got.status(), 200);
        assert_eq!(got.text().await.unwrap(), "straight to storage");

        let tampered = get_url.replace("up/file.bin", "up/other.bin");
        assert_eq!(http.get(&tampered).send().await.unwrap().status(), 403);
        let resigned = put_url.replace("X-Amz-Expires=3600", "X-Amz-Expires=7200");
        let refused = http.put(&resigned).body("x").send().await.unwrap();
        assert_eq!(refused.status(), 403);
        let expired = blobs
            .presigned_url(Access::Read, "up/file.bin", Duration::from_secs(1))
            .await
            .unwrap()
            .unwrap();
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(http.get(&expired).send().await.unwrap().status(), 403);
    }
}

#[tokio::test]
async fn storage_urls_are_checked() {
    for bad in ["s3://", "s3://bucket?colour=blue", "s3://bucket/a%20b"] {
        assert!(
            matches!(S3Blobs::open_url(bad), Err(BlobError::InvalidUrl(_))),
            "{bad}"
        );
    }
}
