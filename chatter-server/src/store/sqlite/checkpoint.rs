//! WAL checkpoints off the write path. SQLite's automatic checkpoint runs inside the
//! commit that crosses the threshold and fsyncs there, stalling that write (and every
//! send queued behind it) for as long as the disk takes. Here the writer never
//! checkpoints; a thread of its own does, every second, with a passive checkpoint that
//! neither waits for nor blocks readers and the writer.

use super::{map_err, open_connection};
use chatter_core::StoreError;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::time::Duration;

const EVERY: Duration = Duration::from_secs(1);

/// Stops the checkpoint thread when dropped (after one last checkpoint).
#[derive(Debug)]
pub(super) struct Checkpointer {
    _stop: mpsc::Sender<()>,
}

impl Checkpointer {
    /// Starts checkpointing the database at `path` on a thread of its own.
    pub(super) fn start(path: &Path) -> Result<Self, StoreError> {
        let conn = open_connection(path)?;
        let (stop, stopped) = mpsc::channel::<()>();
        std::thread::Builder::new()
            .name("chatter-sqlite-checkpoint".into())
            .spawn(move || {
                loop {
                    let last = matches!(stopped.recv_timeout(EVERY), Err(RecvTimeoutError::Disconnected));
                    if let Err(e) = conn.query_row("PRAGMA wal_checkpoint(PASSIVE)", [], |_| Ok(())).map_err(map_err) {
                        tracing::warn!(error = %e, "WAL checkpoint failed");
                    }
                    if last {
                        break;
                    }
                }
            })
            .map_err(|e| StoreError::Other(format!("cannot start the checkpoint thread: {e}")))?;
        Ok(Self { _stop: stop })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    #[test]
    fn committed_pages_reach_the_database_file_without_an_automatic_checkpoint() {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("c.db");
        let conn = open_connection(&path).expect("open");
        conn.pragma_update(None, "wal_autocheckpoint", 0).expect("pragma");
        conn.execute_batch("CREATE TABLE t (x TEXT); WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000) INSERT INTO t SELECT printf('%0100d', i) FROM n;")
            .expect("write");
        let size = || std::fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        let before = size();
        let _checkpointer = Checkpointer::start(&path).expect("start");
        let deadline = Instant::now() + Duration::from_secs(5);
        while size() <= before && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(size() > before, "the pages stayed in the WAL: {} bytes", size());
    }
}
