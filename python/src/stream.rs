//! A table read as an Arrow record batch reader: Python pulls batches (through pyarrow, with
//! the GIL released) and each pull drives the read's stream on the runtime.

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use std::sync::mpsc::{sync_channel, Receiver};

use futures::stream::BoxStream;
use futures::StreamExt;

use crate::runtime;

/// The batches of a read, pulled by whoever reads the exported stream: a task on our runtime
/// drives the read one batch ahead, so a reader on any thread (one of another async runtime
/// among them) only waits on a channel.
pub struct ScanReader {
    schema: SchemaRef,
    batches: Receiver<hudi_core::Result<RecordBatch>>,
}

impl ScanReader {
    pub fn new(scan: hudi_core::TableScan) -> Self {
        let (tx, rx) = sync_channel(1);
        let mut batches: BoxStream<'static, _> = scan.batches;
        runtime().spawn(async move {
            while let Some(b) = batches.next().await {
                // A worker waits for the consumer outside the scheduler; a dropped reader
                // ends the read.
                if tokio::task::block_in_place(|| tx.send(b)).is_err() {
                    break;
                }
            }
        });
        ScanReader {
            schema: scan.schema,
            batches: rx,
        }
    }
}

impl Iterator for ScanReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        let b = match self.batches.recv().ok()? {
            Ok(b) => b,
            Err(e) => return Some(Err(ArrowError::ExternalError(Box::new(e)))),
        };
        // What crosses the C interface must be what the stream declared.
        let declared = self.schema.fields().iter().map(|f| f.data_type());
        if b.num_columns() != self.schema.fields().len()
            || !declared.eq(b.columns().iter().map(|c| c.data_type()))
        {
            return Some(Err(ArrowError::SchemaError(format!(
                "a batch of schema {} in a stream of schema {}",
                b.schema(),
                self.schema
            ))));
        }
        Some(Ok(b))
    }
}

impl RecordBatchReader for ScanReader {
    fn schema(&self) -> SchemaRef {
        self.schema.clone()
    }
}

/// The batches of a Python object exporting the Arrow C stream interface, as the stream a
/// write consumes.
pub fn input_stream(
    reader: arrow_array::ffi_stream::RecordBatchStreamReader,
) -> impl futures::Stream<Item = hudi_core::Result<RecordBatch>> + Unpin + Send {
    futures::stream::iter(reader.map(|b| {
        b.map_err(|source| hudi_core::HudiError::Arrow {
            context: "reading the input data".into(),
            source,
        })
    }))
}
