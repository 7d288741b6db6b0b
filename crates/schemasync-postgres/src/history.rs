//! The `schemasync_history` table in the `public` schema: one row per apply.
//!
//! Introspection never reports this table (it ignores `schemasync_*`).

use crate::driver::pg_error;
use postgres::GenericClient;
use schemasync_core::Result;

/// Appends an entry, creating the table on first use.
pub(crate) fn record(
    client: &mut impl GenericClient,
    schema_hash: &str,
    label: Option<&str>,
    summary: &str,
) -> Result<()> {
    client
        .batch_execute(
            "CREATE TABLE IF NOT EXISTS public.schemasync_history (
                id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                applied_at timestamptz NOT NULL DEFAULT now(),
                schema_hash text NOT NULL,
                label text,
                summary text NOT NULL,
                tool_version text NOT NULL
            )",
        )
        .map_err(|e| pg_error("cannot create the history table", &e))?;
    client
        .execute(
            "INSERT INTO public.schemasync_history (schema_hash, label, summary, tool_version) VALUES ($1, $2, $3, $4)",
            &[&schema_hash, &label, &summary, &env!("CARGO_PKG_VERSION")],
        )
        .map_err(|e| pg_error("cannot record the apply in the history table", &e))?;
    Ok(())
}

/// The label (or the first 12 characters of the schema hash) of the last apply, if any.
pub(crate) fn last_version(client: &mut impl GenericClient) -> Result<Option<String>> {
    let failed = |e: postgres::Error| pg_error("cannot read the history table", &e);
    let exists = client
        .query(
            "SELECT 1 FROM pg_class WHERE oid = to_regclass('public.schemasync_history')",
            &[],
        )
        .map_err(failed)?;
    if exists.is_empty() {
        return Ok(None);
    }
    let rows = client
        .query(
            "SELECT label, schema_hash FROM public.schemasync_history ORDER BY id DESC LIMIT 1",
            &[],
        )
        .map_err(failed)?;
    let Some(row) = rows.first() else {
        return Ok(None);
    };
    let label: Option<String> = row.try_get(0).map_err(failed)?;
    let hash: String = row.try_get(1).map_err(failed)?;
    Ok(Some(
        label.unwrap_or_else(|| hash.chars().take(12).collect()),
    ))
}
