//! Helpers shared by the `#[pg_test]`s.

use pgrx::prelude::*;

/// Runs a statement; a failure fails the test with the statement in the message.
pub fn exec(sql: &str) {
    Spi::run(sql).unwrap_or_else(|e| panic!("{sql}: {e}"));
}

/// The single bigint a query returns.
pub fn int(sql: &str) -> i64 {
    Spi::get_one::<i64>(sql).unwrap_or_else(|e| panic!("{sql}: {e}")).unwrap_or_else(|| panic!("{sql}: NULL"))
}

/// The single text a query returns (None for NULL).
pub fn text(sql: &str) -> Option<String> {
    Spi::get_one::<String>(sql).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// Creates `test_support.sqlstate_of(text)`: runs a statement in a subtransaction and returns the
/// SQLSTATE it failed with, or NULL when it succeeded (its effects are then kept).
pub fn install_sqlstate_helper() {
    exec("CREATE SCHEMA IF NOT EXISTS test_support");
    exec("GRANT USAGE ON SCHEMA test_support TO PUBLIC");
    exec(
        "CREATE OR REPLACE FUNCTION test_support.sqlstate_of(q text) RETURNS text LANGUAGE plpgsql AS $$
         BEGIN EXECUTE q; RETURN NULL; EXCEPTION WHEN OTHERS THEN RETURN SQLSTATE; END $$",
    );
}

/// The SQLSTATE `sql` fails with, or None when it succeeds. Needs [`install_sqlstate_helper`].
pub fn sqlstate_of(sql: &str) -> Option<String> {
    Spi::get_one_with_args::<String>("SELECT test_support.sqlstate_of($1)", &[sql.into()]).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

/// "SQLSTATE | message | detail | hint" of a failing statement, or "no error" (run in a subtransaction).
pub fn error_of(sql: &str) -> String {
    exec(
        "CREATE OR REPLACE FUNCTION pg_temp.error_of(q text) RETURNS text LANGUAGE plpgsql AS $$
         DECLARE d text; h text;
         BEGIN EXECUTE q; RETURN 'no error';
         EXCEPTION WHEN OTHERS THEN GET STACKED DIAGNOSTICS d = PG_EXCEPTION_DETAIL, h = PG_EXCEPTION_HINT;
           RETURN SQLSTATE || ' | ' || SQLERRM || ' | ' || coalesce(d, '') || ' | ' || coalesce(h, ''); END $$",
    );
    Spi::get_one_with_args::<String>("SELECT pg_temp.error_of($1)", &[sql.into()])
        .unwrap_or_else(|e| panic!("{sql}: {e}"))
        .unwrap_or_default()
}

/// Switches the session's tenant for the rest of the transaction (None: no tenant).
pub fn set_tenant(tenant: Option<&str>) {
    Spi::run_with_args("SELECT set_config('analytics.tenant_id', $1, true)", &[tenant.unwrap_or("").into()]).expect("set tenant");
}

/// One column of a spec's rows (`analytics_rows`), in row order, as text ("" for NULL).
pub fn column(spec: &str, col: &str) -> Vec<String> {
    Spi::connect(|c| {
        c.select("SELECT r ->> $2 FROM analytics.analytics_rows($1::jsonb) AS r", None, &[spec.into(), col.into()])?
            .map(|r| r.get::<String>(1).map(|v| v.unwrap_or_default()))
            .collect::<Result<Vec<_>, _>>()
    })
    .unwrap_or_else(|e| panic!("{spec}: {e}"))
}
