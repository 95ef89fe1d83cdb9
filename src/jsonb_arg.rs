//! A jsonb argument of a SQL function written in Rust, received as the text jsonb prints. The depth
//! check (`analytics_core::json_arg`), the memo of prepared specs and the cache key all read that text,
//! so a function declares its argument `Option<JsonbText>` (jsonb in SQL) and needs no SQL wrapper to
//! turn jsonb into text, and no Rust-side jsonb conversion that could fail on a deep document before
//! the depth check speaks.

use pgrx::callconv::{Arg, ArgAbi};
use pgrx::pg_sys;
use pgrx::pgrx_sql_entity_graph::metadata as sql_meta;

/// The text of a jsonb argument, as `jsonb_out` prints it.
pub struct JsonbText(pub String);

impl JsonbText {
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

// SAFETY: the argument is a jsonb datum (the SQL declaration says jsonb); its bytes are read through
// pgrx's own detoasting `&[u8]` argument and printed before the call's memory goes.
unsafe impl<'fcx> ArgAbi<'fcx> for JsonbText {
    unsafe fn unbox_arg_unchecked(arg: Arg<'_, 'fcx>) -> Self {
        let bytes: &[u8] = unsafe { <&'fcx [u8] as ArgAbi<'fcx>>::unbox_arg_unchecked(arg) };
        JsonbText(jsonb_text(bytes))
    }
}

// SAFETY: JsonbText is a jsonb value in SQL.
unsafe impl sql_meta::SqlTranslatable for JsonbText {
    const TYPE_IDENT: &'static str = concat!(module_path!(), "::JsonbText");
    const TYPE_ORIGIN: sql_meta::TypeOrigin = sql_meta::TypeOrigin::External;
    const ARGUMENT_SQL: Result<sql_meta::SqlMappingRef, sql_meta::ArgumentError> = Ok(sql_meta::SqlMappingRef::literal("jsonb"));
    const RETURN_SQL: Result<sql_meta::ReturnsRef, sql_meta::ReturnsError> =
        Ok(sql_meta::ReturnsRef::One(sql_meta::SqlMappingRef::literal("jsonb")));
}

/// The text of a jsonb value's bytes (a JsonbContainer), printed as jsonb_out does.
pub fn jsonb_text(bytes: &[u8]) -> String {
    // SAFETY: the bytes are a jsonb value's (the SQL declaration or jsonb_in made them), copied to an
    // 8-byte aligned buffer (a short-header datum's bytes may be unaligned); JsonbToCString prints it
    // into a palloc'd string.
    let mut aligned = vec![0u64; bytes.len().div_ceil(8)];
    unsafe {
        std::ptr::copy_nonoverlapping(bytes.as_ptr(), aligned.as_mut_ptr().cast::<u8>(), bytes.len());
        let c = pg_sys::JsonbToCString(std::ptr::null_mut(), aligned.as_mut_ptr().cast::<pg_sys::JsonbContainer>(), bytes.len() as i32);
        std::ffi::CStr::from_ptr(c).to_string_lossy().into_owned()
    }
}

/// A jsonb result given as its text: `jsonb_in` makes the value, so numbers keep every digit
/// PostgreSQL wrote (a serde_json value, pgrx's `JsonB`, would round them to f64).
impl pgrx::IntoDatum for JsonbText {
    fn into_datum(self) -> Option<pg_sys::Datum> {
        let text = std::ffi::CString::new(self.0).ok()?;
        // SAFETY: jsonb_in reads a NUL-terminated string and returns a palloc'd jsonb (or raises an
        // ERROR for text that is not JSON, which the callers never pass: it came from jsonb_out).
        unsafe { pgrx::fcinfo::direct_function_call_as_datum(pg_sys::jsonb_in, &[text.as_c_str().into_datum()]) }
    }

    fn type_oid() -> pg_sys::Oid {
        pg_sys::JSONBOID
    }
}

// SAFETY: the datum is a jsonb made in the function's memory context, as IntoDatum for JsonB returns.
unsafe impl pgrx::callconv::BoxRet for JsonbText {
    unsafe fn box_into<'fcx>(self, fcinfo: &mut pgrx::callconv::FcInfo<'fcx>) -> pgrx::datum::Datum<'fcx> {
        match pgrx::IntoDatum::into_datum(self) {
            Some(datum) => unsafe { fcinfo.return_raw_datum(datum) },
            None => fcinfo.return_null(),
        }
    }
}
