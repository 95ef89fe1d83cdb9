//! Queries that only read. pgrx's `Spi::get_one`/`get_two`/`get_three` (and `Spi::explain`) run their
//! query read-write and first assign the transaction an ID. On a hot standby that fails ("cannot assign
//! TransactionIds during recovery"), and on a primary it makes a transaction that only read write a
//! commit record and wait for it to be flushed. Every read a read-only caller can reach (specs, the
//! catalog, the cache's versions, ask) goes through here instead: a read-only SPI query on the calling
//! statement's snapshot (once the transaction has written, pgrx runs it read-write by itself). Functions
//! that write call [`ensure_writable`] first.

use crate::error::ApiError;
use pgrx::datum::DatumWithOid;
use pgrx::prelude::*;
use pgrx::spi::SpiResult;
use std::ffi::{c_char, CString};

/// Whether this transaction cannot write: on a standby (in recovery), or read-only by choice
/// (`BEGIN READ ONLY`, `default_transaction_read_only`).
pub fn transaction_is_read_only() -> bool {
    // SAFETY: reads of the backend's own state.
    unsafe { pg_sys::RecoveryInProgress() || pg_sys::XactReadOnly }
}

/// For a function that writes: a clear 25006 error where this transaction cannot write, before any
/// work (PostgreSQL would otherwise fail later, on a standby as "cannot assign TransactionIds during
/// recovery").
pub fn ensure_writable(function: &'static str) -> Result<(), ApiError> {
    if transaction_is_read_only() {
        return Err(ApiError::ReadOnly(function));
    }
    Ok(())
}

/// The first column of the first row (None when there is no row or it is NULL).
pub fn one<A: FromDatum + IntoDatum>(query: &str, args: &[DatumWithOid]) -> SpiResult<Option<A>> {
    Spi::connect(|c| {
        let t = c.select(query, Some(1), args)?;
        if t.is_empty() {
            return Ok(None);
        }
        t.first().get_one()
    })
}

/// The first two columns of the first row (Nones when there is no row).
pub fn two<A: FromDatum + IntoDatum, B: FromDatum + IntoDatum>(query: &str, args: &[DatumWithOid]) -> SpiResult<(Option<A>, Option<B>)> {
    Spi::connect(|c| {
        let t = c.select(query, Some(1), args)?;
        if t.is_empty() {
            return Ok((None, None));
        }
        t.first().get_two()
    })
}

/// The first three columns of the first row (Nones when there is no row).
pub fn three<A: FromDatum + IntoDatum, B: FromDatum + IntoDatum, C: FromDatum + IntoDatum>(
    query: &str,
    args: &[DatumWithOid],
) -> SpiResult<(Option<A>, Option<B>, Option<C>)> {
    Spi::connect(|c| {
        let t = c.select(query, Some(1), args)?;
        if t.is_empty() {
            return Ok((None, None, None));
        }
        t.first().get_three()
    })
}

/// PostgreSQL's plan of a query with its parameters, as EXPLAIN's JSON (the query is not run).
/// SPI refuses a utility statement such as EXPLAIN in read-only mode, and pgrx's read-write mode assigns
/// a transaction ID, so this calls SPI directly: read-write, without a transaction ID.
pub fn explain(query: &str, args: &[DatumWithOid]) -> Result<Option<pgrx::Json>, ApiError> {
    let command = CString::new(format!("EXPLAIN (FORMAT JSON) {query}")).map_err(|_| ApiError::Internal("a NUL byte in a query".into()))?;
    Spi::connect(|_| {
        let mut types: Vec<pg_sys::Oid> = args.iter().map(|a| a.oid()).collect();
        let mut values: Vec<pg_sys::Datum> = args.iter().map(|a| a.datum().map_or(pg_sys::Datum::from(0), |d| d.sans_lifetime())).collect();
        let nulls: Vec<c_char> = args.iter().map(|a| if a.datum().is_some() { b' ' } else { b'n' } as c_char).collect();
        // SAFETY: inside an SPI connection; the three arrays have one entry per argument; the result's
        // first column of its first row is read before the connection (and its memory) ends.
        unsafe {
            let status = pg_sys::SPI_execute_with_args(
                command.as_ptr(),
                args.len() as i32,
                types.as_mut_ptr(),
                values.as_mut_ptr(),
                nulls.as_ptr(),
                false,
                1,
            );
            let table = pg_sys::SPI_tuptable;
            if status < 0 || table.is_null() || pg_sys::SPI_processed < 1 {
                return Err(ApiError::Internal(format!("EXPLAIN gave no plan (SPI status {status})")));
            }
            let mut is_null = false;
            let datum = pg_sys::SPI_getbinval(*(*table).vals, (*table).tupdesc, 1, &mut is_null);
            Ok(pgrx::Json::from_datum(datum, is_null))
        }
    })
}
