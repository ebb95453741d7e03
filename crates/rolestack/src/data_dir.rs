//! The data directory: the SQLite database, the server key, and the root credentials written at
//! first start (`credentials.json`, plus `aliyun-cli-config.json`, a profile file in the aliyun CLI's
//! format). The directory is private to its owner: 0700, every file in it 0600 (`serve` also sets
//! its umask to 077, so the database and object bodies are created that way).

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anyhow::{bail, Context};
use rolestack_core::bootstrap::RootCredentials;
use rolestack_core::seal::{ServerKey, KEY_LEN};
use rolestack_server::tls::{CaFiles, LabCa};

pub fn default_path() -> PathBuf {
    match std::env::var_os("HOME") {
        Some(home) => PathBuf::from(home).join(".local/share/rolestack"),
        None => PathBuf::from("rolestack-data"),
    }
}

#[derive(Clone)]
pub struct DataDir(PathBuf);

fn set_mode(path: &Path, mode: u32) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(path, fs::Permissions::from_mode(mode))
        .with_context(|| format!("restricting the permissions of {}", path.display()))
}

fn restrict_tree(dir: &Path) -> anyhow::Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let restrict = |path: &Path, meta: &fs::Metadata, mode: u32| match meta.permissions().mode() & 0o777 == mode {
        true => Ok(()),
        false => set_mode(path, mode),
    };
    restrict(dir, &fs::symlink_metadata(dir)?, 0o700)?;
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        let Ok(meta) = entry.metadata() else { continue }; // removed meanwhile
        if meta.is_dir() {
            restrict_tree(&entry.path())?;
        } else if meta.is_file() {
            restrict(&entry.path(), &meta, 0o600)?;
        }
    }
    Ok(())
}

/// Writes `contents` to `path` readable by its owner only (0600 — also when the file was there
/// before with looser permissions), durably.
pub fn write_private(path: &Path, contents: &[u8]) -> anyhow::Result<()> {
    let mut opts = fs::OpenOptions::new();
    opts.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        opts.mode(0o600);
    }
    let mut f = opts.open(path).with_context(|| format!("writing {}", path.display()))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        f.set_permissions(fs::Permissions::from_mode(0o600)).with_context(|| format!("restricting {}", path.display()))?;
    }
    f.write_all(contents)?;
    f.sync_all()?;
    Ok(())
}

impl DataDir {
    pub fn new(path: PathBuf) -> Self {
        DataDir(path)
    }
    pub fn path(&self) -> &Path {
        &self.0
    }
    pub fn create(&self) -> anyhow::Result<()> {
        fs::create_dir_all(&self.0).with_context(|| format!("creating data directory {}", self.0.display()))?;
        set_mode(&self.0, 0o700)
    }

    /// Makes the data directory and everything in it private to its owner: directories 0700,
    /// files 0600 (also what an earlier version left more open). Symbolic links are not followed.
    pub fn restrict_permissions(&self) -> anyhow::Result<()> {
        restrict_tree(&self.0)
    }
    pub fn database(&self) -> PathBuf {
        self.0.join("rolestack.db")
    }
    pub fn credentials_file(&self) -> PathBuf {
        self.0.join("credentials.json")
    }

    /// Loads the server key, creating it on first start.
    pub fn server_key(&self, explicit: Option<&Path>) -> anyhow::Result<ServerKey> {
        let path = explicit.map(Path::to_path_buf).unwrap_or_else(|| self.0.join("master.key"));
        if !path.exists() {
            if self.database().exists() {
                bail!("the server key {} is missing but the database exists; without the key its secrets cannot be read", path.display());
            }
            write_private(&path, &ServerKey::generate())?;
        }
        let bytes = fs::read(&path).with_context(|| format!("reading server key {}", path.display()))?;
        let key: [u8; KEY_LEN] =
            bytes.as_slice().try_into().map_err(|_| anyhow::anyhow!("server key {} must be exactly {KEY_LEN} bytes", path.display()))?;
        Ok(ServerKey::from_bytes(&key))
    }

    /// Marks the data directory as in use by a running server until [`DataDir::stopped_cleanly`];
    /// returns whether the marker was there already — the last server did not stop cleanly (see
    /// `rolestack_core::replay`).
    pub fn mark_running(&self) -> anyhow::Result<bool> {
        let marker = self.running_marker();
        if marker.exists() {
            return Ok(true);
        }
        write_private(&marker, b"a rolestack server uses this directory; removed when it stops cleanly\n")?;
        fs::File::open(&self.0).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", self.0.display()))?;
        Ok(false)
    }

    /// Removes the marker of [`DataDir::mark_running`]: the server stopped with everything written.
    pub fn stopped_cleanly(&self) -> anyhow::Result<()> {
        fs::remove_file(self.running_marker()).with_context(|| format!("removing {}", self.running_marker().display()))?;
        fs::File::open(&self.0).and_then(|d| d.sync_all()).with_context(|| format!("syncing {}", self.0.display()))
    }

    /// The replay guard's nonce log (`crate::nonce_log`).
    pub fn nonce_log(&self) -> PathBuf {
        self.0.join("nonces")
    }

    fn running_marker(&self) -> PathBuf {
        self.0.join("running")
    }

    /// The local CA's certificate: what clients must trust for HTTPS.
    pub fn ca_certificate_file(&self) -> PathBuf {
        self.0.join("ca.pem")
    }

    /// The local CA (`ca.pem`, `ca.key`), made on first start. The key never leaves the file.
    pub fn ca_files(&self) -> anyhow::Result<CaFiles> {
        let (cert, key) = (self.ca_certificate_file(), self.0.join("ca.key"));
        if !cert.exists() || !key.exists() {
            let files = LabCa::generate().context("creating the local CA")?;
            write_private(&key, files.key_pem.as_bytes())?;
            write_private(&cert, files.certificate_pem.as_bytes())?;
            return Ok(files);
        }
        Ok(CaFiles {
            certificate_pem: fs::read_to_string(&cert).with_context(|| format!("reading {}", cert.display()))?,
            key_pem: fs::read_to_string(&key).with_context(|| format!("reading {}", key.display()))?,
        })
    }

    pub fn write_root_credentials(&self, creds: &RootCredentials) -> anyhow::Result<()> {
        write_private(&self.credentials_file(), serde_json::to_string_pretty(creds)?.as_bytes())?;
        let profile = serde_json::json!({
            "current": "rolestack",
            "profiles": [{
                "name": "rolestack",
                "mode": "AK",
                "access_key_id": creds.access_key_id,
                "access_key_secret": creds.access_key_secret,
                "region_id": "cn-hangzhou",
                "output_format": "json",
                "language": "en"
            }],
            "meta_path": ""
        });
        write_private(&self.0.join("aliyun-cli-config.json"), serde_json::to_string_pretty(&profile)?.as_bytes())
    }

    pub fn read_root_credentials(&self) -> anyhow::Result<RootCredentials> {
        let path = self.credentials_file();
        let text = fs::read_to_string(&path)
            .with_context(|| format!("reading {} (has `rolestack serve --data-dir {}` run once?)", path.display(), self.0.display()))?;
        Ok(serde_json::from_str(&text)?)
    }
}
