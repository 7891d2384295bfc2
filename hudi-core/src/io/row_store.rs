//! Rows held in memory while small and spilled to a local Arrow IPC file once they pass a
//! threshold: a write's input (only keys, partitions and ordering values stay resident, each
//! file group's rows are fetched back when that group is written) and a file slice's log
//! records while they are merged.

use std::collections::HashMap;
use std::fs::File;
use std::io::BufReader;
use std::sync::Mutex;

use arrow::array::{RecordBatch, UInt32Array};
use arrow::compute::{interleave_record_batch, take_record_batch};
use arrow::datatypes::SchemaRef;
use arrow::ipc::reader::FileReader;
use arrow::ipc::writer::FileWriter;

use crate::error::{HudiError, Result};

/// Bytes of input kept in memory before spilling (`hoodie.write.spill.threshold.bytes`).
pub const DEFAULT_SPILL_THRESHOLD: usize = 256 * 1024 * 1024;

enum Store {
    Memory(Vec<RecordBatch>),
    Writing {
        dir: tempfile::TempDir,
        writer: FileWriter<File>,
    },
    Disk {
        _dir: tempfile::TempDir,
        reader: Mutex<FileReader<BufReader<File>>>,
    },
}

/// Rows addressed by their position in the input.
pub struct RowStore {
    schema: SchemaRef,
    store: Store,
    /// Where each row is: (stored batch, row within it).
    locs: Vec<(u32, u32)>,
    /// Stored batches so far.
    batches: u32,
    memory_bytes: usize,
    threshold: usize,
}

fn io_err(e: std::io::Error) -> HudiError {
    HudiError::Io {
        path: std::env::temp_dir(),
        source: e,
    }
}

/// The bytes a batch's rows occupy (its slices, not the buffers they may share with other
/// batches: arrays read from one IPC message all point into the message's body).
pub(crate) fn logical_size(batch: &RecordBatch) -> usize {
    batch
        .columns()
        .iter()
        .map(|c| {
            c.to_data()
                .get_slice_memory_size()
                .unwrap_or_else(|_| c.get_array_memory_size())
        })
        .sum()
}

impl RowStore {
    pub fn new(schema: SchemaRef, threshold: usize) -> Self {
        RowStore {
            schema,
            store: Store::Memory(Vec::new()),
            locs: Vec::new(),
            batches: 0,
            memory_bytes: 0,
            threshold,
        }
    }

    pub fn schema(&self) -> &SchemaRef {
        &self.schema
    }

    /// Rows held.
    pub fn len(&self) -> usize {
        self.locs.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Batches stored so far (a segmented batch counts once per segment).
    pub fn stored_batches(&self) -> u32 {
        self.batches
    }

    /// Whether the rows went to disk.
    pub fn spilled(&self) -> bool {
        !matches!(self.store, Store::Memory(_))
    }

    /// Appends a batch (already in the store's schema).
    pub fn push(&mut self, batch: RecordBatch) -> Result<()> {
        self.push_segmented(batch, None)
    }

    /// Appends a batch whose rows belong to `segments` (one per row, e.g. a partition): the
    /// rows of each segment are stored together, so that reading one segment's rows back
    /// touches only what it stored, not every batch the input came in.
    pub fn push_segmented(&mut self, batch: RecordBatch, segments: Option<&[u32]>) -> Result<()> {
        let n = batch.num_rows();
        if n == 0 {
            return Ok(());
        }
        let start = self.locs.len();
        let groups = segments.map(group_rows).filter(|g| g.len() > 1);
        let Some(groups) = groups else {
            let b = self.batches;
            self.locs.extend((0..n as u32).map(|i| (b, i)));
            return self.store_batch(batch);
        };
        self.locs.resize(start + n, (0, 0));
        for rows in groups {
            let idx = UInt32Array::from(rows.clone());
            let sub = take_record_batch(&batch, &idx)
                .map_err(|e| HudiError::arrow("grouping input rows", e))?;
            let b = self.batches;
            for (k, r) in rows.iter().enumerate() {
                self.locs[start + *r as usize] = (b, k as u32);
            }
            self.store_batch(sub)?;
        }
        Ok(())
    }

    fn store_batch(&mut self, batch: RecordBatch) -> Result<()> {
        self.memory_bytes += logical_size(&batch);
        self.batches += 1;
        match &mut self.store {
            Store::Memory(v) => {
                v.push(batch);
                if self.memory_bytes > self.threshold {
                    self.spill()?;
                }
                Ok(())
            }
            Store::Writing { writer, .. } => writer
                .write(&batch)
                .map_err(|e| HudiError::arrow("spilling input rows", e)),
            Store::Disk { .. } => Err(HudiError::Internal {
                what: "rows pushed after the store was sealed".into(),
            }),
        }
    }

    fn spill(&mut self) -> Result<()> {
        let Store::Memory(batches) = std::mem::replace(&mut self.store, Store::Memory(Vec::new()))
        else {
            return Ok(());
        };
        let dir = tempfile::Builder::new()
            .prefix("hudi-write-")
            .tempdir()
            .map_err(io_err)?;
        let file = File::create(dir.path().join("input.arrow")).map_err(io_err)?;
        let mut writer = FileWriter::try_new(file, &self.schema)
            .map_err(|e| HudiError::arrow("spilling input rows", e))?;
        for b in &batches {
            writer
                .write(b)
                .map_err(|e| HudiError::arrow("spilling input rows", e))?;
        }
        self.store = Store::Writing { dir, writer };
        Ok(())
    }

    /// Ends the input: spilled rows become readable.
    pub fn seal(&mut self) -> Result<()> {
        if let Store::Writing { .. } = self.store {
            let Store::Writing { dir, mut writer } =
                std::mem::replace(&mut self.store, Store::Memory(Vec::new()))
            else {
                return Ok(());
            };
            writer
                .finish()
                .map_err(|e| HudiError::arrow("spilling input rows", e))?;
            let file = File::open(dir.path().join("input.arrow")).map_err(io_err)?;
            let reader = FileReader::try_new(BufReader::new(file), None)
                .map_err(|e| HudiError::arrow("reading spilled rows", e))?;
            self.store = Store::Disk {
                _dir: dir,
                reader: Mutex::new(reader),
            };
        }
        Ok(())
    }

    fn batch(&self, i: usize) -> Result<RecordBatch> {
        match &self.store {
            Store::Memory(v) => v.get(i).cloned().ok_or_else(|| HudiError::Internal {
                what: format!("no stored batch {i}"),
            }),
            Store::Disk { reader, .. } => {
                let mut r = reader.lock().map_err(|_| HudiError::Internal {
                    what: "spill reader poisoned".into(),
                })?;
                r.set_index(i)
                    .map_err(|e| HudiError::arrow("reading spilled rows", e))?;
                r.next()
                    .transpose()
                    .map_err(|e| HudiError::arrow("reading spilled rows", e))?
                    .ok_or_else(|| HudiError::Internal {
                        what: format!("no spilled batch {i}"),
                    })
            }
            Store::Writing { .. } => Err(HudiError::Internal {
                what: "stored rows read before the store was sealed".into(),
            }),
        }
    }

    /// All rows as one batch (small inputs and tests).
    pub fn all(&self) -> Result<RecordBatch> {
        self.take(&(0..self.len()).collect::<Vec<_>>())
    }

    /// The rows at these positions, in this order. Each stored batch they are in is loaded
    /// once.
    pub fn take(&self, rows: &[usize]) -> Result<RecordBatch> {
        if rows.is_empty() {
            return Ok(RecordBatch::new_empty(self.schema.clone()));
        }
        let mut slot: HashMap<u32, usize> = HashMap::new();
        let mut loaded: Vec<RecordBatch> = Vec::new();
        let mut picks: Vec<(usize, usize)> = Vec::with_capacity(rows.len());
        for &r in rows {
            let (b, off) = *self.locs.get(r).ok_or_else(|| HudiError::Internal {
                what: format!("no stored row {r}"),
            })?;
            let pos = match slot.get(&b) {
                Some(p) => *p,
                None => {
                    loaded.push(self.batch(b as usize)?);
                    slot.insert(b, loaded.len() - 1);
                    loaded.len() - 1
                }
            };
            picks.push((pos, off as usize));
        }
        if loaded.len() == 1 {
            let idx = UInt32Array::from(picks.iter().map(|(_, r)| *r as u32).collect::<Vec<_>>());
            return take_record_batch(&loaded[0], &idx)
                .map_err(|e| HudiError::arrow("selecting input rows", e));
        }
        let refs: Vec<&RecordBatch> = loaded.iter().collect();
        interleave_record_batch(&refs, &picks)
            .map_err(|e| HudiError::arrow("selecting input rows", e))
    }
}

/// Row indices by segment, segments in order of first appearance.
fn group_rows(segments: &[u32]) -> Vec<Vec<u32>> {
    let mut order: HashMap<u32, usize> = HashMap::new();
    let mut out: Vec<Vec<u32>> = Vec::new();
    for (i, s) in segments.iter().enumerate() {
        let g = *order.entry(*s).or_insert_with(|| {
            out.push(Vec::new());
            out.len() - 1
        });
        out[g].push(i as u32);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow::array::{AsArray, Int32Array};
    use arrow::datatypes::{DataType, Field, Int32Type, Schema};
    use std::sync::Arc;

    fn b(v: Vec<i32>) -> RecordBatch {
        RecordBatch::try_new(
            Arc::new(Schema::new(vec![Field::new("x", DataType::Int32, true)])),
            vec![Arc::new(Int32Array::from(v))],
        )
        .unwrap()
    }

    #[test]
    fn spills_past_the_threshold_and_reads_rows_back_in_order() {
        for threshold in [usize::MAX, 1] {
            let mut s = RowStore::new(b(vec![]).schema(), threshold);
            s.push(b(vec![0, 1, 2])).unwrap();
            s.push(b(vec![3, 4])).unwrap();
            s.push(b(vec![5])).unwrap();
            s.seal().unwrap();
            assert_eq!(s.spilled(), threshold == 1);
            let t = s.take(&[5, 0, 3, 4, 1]).unwrap();
            let v: Vec<i32> = t.column(0).as_primitive::<Int32Type>().values().to_vec();
            assert_eq!(v, vec![5, 0, 3, 4, 1]);
            assert_eq!(s.len(), 6);
        }
    }

    #[test]
    fn segmented_rows_keep_their_positions_and_are_counted_by_their_slices() {
        for threshold in [usize::MAX, 1] {
            let mut s = RowStore::new(b(vec![]).schema(), threshold);
            s.push_segmented(b(vec![10, 11, 12, 13]), Some(&[7, 8, 7, 9]))
                .unwrap();
            s.push(b(vec![14])).unwrap();
            s.seal().unwrap();
            let t = s.take(&[4, 3, 0, 2, 1]).unwrap();
            let v: Vec<i32> = t.column(0).as_primitive::<Int32Type>().values().to_vec();
            assert_eq!(v, vec![14, 13, 10, 12, 11]);
        }
        // A slice of a large batch counts its own rows, not the whole buffer.
        let big = b((0..100_000).collect());
        let mut s = RowStore::new(big.schema(), 1_000_000);
        for i in 0..50 {
            s.push(big.slice(i * 10, 10)).unwrap();
        }
        assert!(
            !s.spilled(),
            "50 slices of 10 rows are 2 KB, not 50 x 400 KB"
        );
    }
}
