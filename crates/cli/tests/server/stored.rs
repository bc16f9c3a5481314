//! What a test server keeps: on local storage or S3, the objects under a
//! key prefix, and the upload records in its SQLite database.

use std::path::Path;

use crate::harness::{s3_bucket, s3_keys, s3_storage_url, Server};

/// Where a test server keeps its files.
pub enum Storage {
    Local,
    S3 { url: String },
}

impl Storage {
    /// Local storage and a fresh prefix of the test bucket, for `test`.
    pub fn both(test: &str) -> [Storage; 2] {
        [
            Storage::Local,
            Storage::S3 {
                url: s3_storage_url(test),
            },
        ]
    }

    pub fn name(&self) -> &'static str {
        match self {
            Storage::Local => "local",
            Storage::S3 { .. } => "s3",
        }
    }

    /// Starts a server on this storage, with `args` besides.
    pub fn start(&self, data_dir: &Path, args: &[&str]) -> Server {
        let mut all = args.to_vec();
        if let Storage::S3 { url } = self {
            all.extend(["--storage-url", url.as_str()]);
        }
        Server::start_in(data_dir, &all)
    }

    /// The keys of the objects under `prefix/` (as `prefix/…`).
    pub async fn keys(&self, server: &Server, prefix: &str) -> Vec<String> {
        match self {
            Storage::Local => {
                let root = server.data_dir.join("blobs");
                let mut keys = Vec::new();
                collect_files(&root, &root.join(prefix), &mut keys);
                keys
            }
            Storage::S3 { url } => {
                let (_, root) = s3_bucket(url);
                s3_keys(url)
                    .await
                    .into_iter()
                    .filter_map(|key| {
                        let key = key.strip_prefix(root.as_ref())?.trim_start_matches('/');
                        key.starts_with(&format!("{prefix}/"))
                            .then(|| key.to_owned())
                    })
                    .collect()
            }
        }
    }

    /// The bytes of the object `key`.
    pub async fn read(&self, server: &Server, key: &str) -> Vec<u8> {
        match self {
            Storage::Local => std::fs::read(server.data_dir.join("blobs").join(key)).unwrap(),
            Storage::S3 { url } => {
                use object_store::ObjectStoreExt;
                let (bucket, root) = s3_bucket(url);
                let path = object_store::path::Path::from(format!("{root}/{key}"));
                let object = bucket.get(&path).await.unwrap();
                object.bytes().await.unwrap().to_vec()
            }
        }
    }
}

fn collect_files(root: &Path, dir: &Path, keys: &mut Vec<String>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.map(Result::unwrap) {
        let path = entry.path();
        if path.is_dir() {
            collect_files(root, &path, keys);
        } else {
            let key = path.strip_prefix(root).unwrap();
            keys.push(key.to_string_lossy().into_owned());
        }
    }
}

/// How many upload records the server's SQLite database holds.
pub async fn upload_rows(server: &Server) -> i64 {
    let url = format!("sqlite://{}", server.data_dir.join("kinoflow.db").display());
    let database = sqlx::SqlitePool::connect(&url).await.unwrap();
    let rows = sqlx::query_scalar("SELECT COUNT(*) FROM uploads")
        .fetch_one(&database)
        .await
        .unwrap();
    database.close().await;
    rows
}
