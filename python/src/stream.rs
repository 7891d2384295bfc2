//! A table read as an Arrow record batch reader: Python pulls batches (through pyarrow, with
//! the GIL released) and each pull drives the read's stream on the runtime.

use arrow::array::{RecordBatch, RecordBatchReader};
use arrow::datatypes::SchemaRef;
use arrow::error::ArrowError;
use futures::stream::BoxStream;
use futures::StreamExt;

use crate::runtime;

pub struct ScanReader {
    schema: SchemaRef,
    batches: BoxStream<'static, hudi_core::Result<RecordBatch>>,
}

impl ScanReader {
    pub fn new(scan: hudi_core::TableScan) -> Self {
        ScanReader {
            schema: scan.schema,
            batches: scan.batches,
        }
    }
}

impl Iterator for ScanReader {
    type Item = Result<RecordBatch, ArrowError>;

    fn next(&mut self) -> Option<Self::Item> {
        runtime()
            .block_on(self.batches.next())
            .map(|b| b.map_err(|e| ArrowError::ExternalError(Box::new(e))))
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
