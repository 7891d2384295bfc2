//! Test support: locating `../shared`, unzipping fixtures once into a cache, the oracle's
//! Python, and the `hudi` binary; the oracles (hudi-rs, Spark), one data builder, one table
//! spec and one scenario runner.

pub mod crash;
pub mod data;
pub mod faulty;
pub mod moto;
pub mod oracle;
pub mod scenario;
pub mod spark;
pub mod spec;
pub mod sync;
pub mod trino;

use std::path::{Path, PathBuf};
use std::process::Command;

/// The shared directory (`$HUDI_SHARED`, else `../shared` beside the checkout), or `None`
/// after printing why the calling test is skipped. With `HUDI_REQUIRE_SHARED=1` a missing
/// directory fails the test instead.
pub fn shared_dir(test: &str) -> Option<PathBuf> {
    let dir = std::env::var_os("HUDI_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared"));
    if dir.join("fixtures").is_dir() {
        return Some(dir.canonicalize().unwrap_or(dir));
    }
    let msg = format!(
        "{test}: no shared fixtures at {} (set HUDI_SHARED)",
        dir.display()
    );
    if std::env::var("HUDI_REQUIRE_SHARED").as_deref() == Ok("1") {
        panic!("{msg}, and HUDI_REQUIRE_SHARED=1");
    }
    eprintln!("SKIPPED {msg}");
    None
}

/// Every file under `dir`, recursively, sorted.
pub fn all_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}

/// Every directory and file under `dir` with a hash of its bytes (directories hash to 0):
/// equal states mean nothing was created, removed or changed.
pub fn tree_state(dir: &Path) -> std::collections::BTreeMap<String, u64> {
    use std::hash::{Hash, Hasher};
    let mut out = std::collections::BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).expect("read dir").flatten() {
            let p = e.path();
            let rel = p
                .strip_prefix(dir)
                .expect("under dir")
                .to_string_lossy()
                .to_string();
            if p.is_dir() {
                out.insert(format!("{rel}/"), 0);
                stack.push(p);
            } else {
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&p).expect("read file").hash(&mut h);
                out.insert(rel, h.finish());
            }
        }
    }
    out
}

/// Copies a directory tree (a fixture table into a scratch location).
pub fn copy_tree(from: &Path, to: &Path) {
    for p in all_files(from) {
        let dest = to.join(p.strip_prefix(from).expect("under the source"));
        std::fs::create_dir_all(dest.parent().expect("parent")).expect("mkdir");
        std::fs::copy(&p, &dest).expect("copy");
    }
}

/// Leaves the state a writer crashes in: `instant`'s completed file removed and an APPEND
/// marker naming `file` (a path inside `table`).
pub fn crash_with_append_marker(table: &Path, instant: &str, action: &str, file: &Path) {
    std::fs::remove_file(table.join(format!(".hoodie/{instant}.{action}"))).expect("crash");
    let rel = file
        .strip_prefix(table)
        .expect("in the table")
        .to_string_lossy()
        .to_string();
    let marker = table.join(format!(".hoodie/.temp/{instant}/{rel}.marker.APPEND"));
    std::fs::create_dir_all(marker.parent().expect("parent")).expect("mkdir");
    std::fs::write(&marker, b"").expect("marker");
}

/// A fixture table: its zip, and the table directory once unzipped.
#[derive(Debug, Clone)]
pub struct Fixture {
    /// e.g. `sample_table/cow/v6_complexkeygen_hivestyle`
    pub name: String,
    pub table: PathBuf,
}

fn cache_root() -> PathBuf {
    std::env::var_os("HUDI_FIXTURE_CACHE")
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("hudi-rust-fixtures"))
}

fn unzip_once(zip_path: &Path, dest: &Path) {
    let stamp = dest.join(".unzipped");
    if stamp.exists() {
        return;
    }
    let tmp = dest.with_extension(format!("tmp{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&tmp);
    std::fs::create_dir_all(&tmp).expect("create fixture cache dir");
    let file = std::fs::File::open(zip_path).expect("open fixture zip");
    let mut archive = zip::ZipArchive::new(file).expect("read fixture zip");
    archive.extract(&tmp).expect("unzip fixture");
    std::fs::write(tmp.join(".unzipped"), b"").expect("write stamp");
    let _ = std::fs::remove_dir_all(dest);
    if std::fs::rename(&tmp, dest).is_err() {
        // Another test process got there first.
        let _ = std::fs::remove_dir_all(&tmp);
    }
}

/// Every fixture zip under `shared/fixtures`, unzipped (once) into the cache.
pub fn fixtures(shared: &Path) -> Vec<Fixture> {
    fixtures_in(&shared.join("fixtures"), "")
}

/// The Spark-written fixtures kept in the repository (`testdata/spark`, made by
/// `interop/spark/make_fixtures.py`), unzipped (once per zip content) into the cache.
pub fn testdata_fixtures() -> Vec<Fixture> {
    fixtures_in(
        &Path::new(env!("CARGO_MANIFEST_DIR")).join("../testdata/spark"),
        "testdata__",
    )
}

fn fixtures_in(root: &Path, prefix: &str) -> Vec<Fixture> {
    // Tests run on several threads: one unzips, the others wait.
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _guard = LOCK.lock().unwrap_or_else(|e| e.into_inner());
    let zips: Vec<PathBuf> = all_files(root)
        .into_iter()
        .filter(|p| p.extension().is_some_and(|x| x == "zip"))
        .collect();
    zips.into_iter()
        .map(|z| {
            let rel = z.strip_prefix(root).expect("under root").with_extension("");
            let name = rel.to_string_lossy().replace('\\', "/");
            // A regenerated zip of the same name gets a cache directory of its own.
            let content = {
                use std::hash::{Hash, Hasher};
                let mut h = std::collections::hash_map::DefaultHasher::new();
                std::fs::read(&z).expect("read fixture zip").hash(&mut h);
                h.finish()
            };
            let dir = format!("{prefix}{}", name.replace('/', "__"));
            let dest = cache_root().join(if prefix.is_empty() {
                dir
            } else {
                format!("{dir}-{content:016x}")
            });
            unzip_once(&z, &dest);
            let table = std::fs::read_dir(&dest)
                .expect("list unzipped")
                .flatten()
                .map(|e| e.path())
                .find(|p| p.is_dir() && p.file_name().is_some_and(|n| n != "__MACOSX"))
                .unwrap_or_else(|| panic!("no table directory in {}", z.display()));
            Fixture { name, table }
        })
        .collect()
}

/// The oracle venv's python (`$HUDI_ORACLE_PYTHON`, else made by `shared/oracle/setup.sh`).
pub fn oracle_python(shared: &Path) -> PathBuf {
    if let Some(p) = std::env::var_os("HUDI_ORACLE_PYTHON") {
        return PathBuf::from(p);
    }
    let out = Command::new("bash")
        .arg(shared.join("oracle/setup.sh"))
        .output()
        .expect("run oracle/setup.sh");
    assert!(
        out.status.success(),
        "oracle/setup.sh failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    PathBuf::from(String::from_utf8_lossy(&out.stdout).trim().to_string())
}

/// The `hudi` binary of this checkout. `cargo test` builds only the test targets of the tests'
/// package, so the first call builds the binary with the cargo that runs the tests (same
/// target directory and profile); later calls reuse it.
pub fn hudi_bin() -> PathBuf {
    static BIN: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();
    BIN.get_or_init(|| {
        let exe = std::env::current_exe().expect("current exe");
        // target/<profile>/deps/it-<hash> → target/<profile>
        let dir = exe.parent().and_then(Path::parent).expect("target dir");
        let bin = dir.join(format!("hudi{}", std::env::consts::EXE_SUFFIX));
        let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.args(["build", "--quiet", "-p", "hudi-cli", "--bin", "hudi"])
            .current_dir(env!("CARGO_MANIFEST_DIR"));
        if dir.file_name().is_some_and(|n| n == "release") {
            cmd.arg("--release");
        }
        if let Some(target) = dir.parent() {
            cmd.env("CARGO_TARGET_DIR", target);
        }
        let status = cmd.status().expect("run cargo build for the hudi binary");
        assert!(status.success(), "cargo build of the hudi binary failed");
        assert!(bin.exists(), "{} not built", bin.display());
        bin
    })
    .clone()
}

/// Runs `hudi` with arguments; returns (success, stdout, stderr).
pub fn run_hudi(args: &[&str]) -> (bool, String, String) {
    run_hudi_env(args, &[])
}

/// Runs `hudi` with arguments and environment variables; returns (success, stdout, stderr).
pub fn run_hudi_env(args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    run_hudi_in(Path::new("."), args, env)
}

/// Runs `hudi` in the working directory `cwd`; returns (success, stdout, stderr).
pub fn run_hudi_in(cwd: &Path, args: &[&str], env: &[(&str, &str)]) -> (bool, String, String) {
    let out = Command::new(hudi_bin())
        .args(args)
        .envs(env.iter().copied())
        .current_dir(cwd)
        .output()
        .expect("run hudi");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}
