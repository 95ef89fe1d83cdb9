-- Every backend keeps the parsed catalog until one of these tables changes (src/catalog_cache.rs).
CREATE FUNCTION analytics._catalog_changed() RETURNS trigger
LANGUAGE plpgsql SECURITY DEFINER
SET search_path = pg_catalog, pg_temp
AS $$
BEGIN
    UPDATE analytics.catalog_stamp SET stamp = stamp + 1;
    PERFORM analytics._catalog_invalidate(TG_RELID);
    RETURN NULL;
END
$$;
COMMENT ON FUNCTION analytics._catalog_changed() IS 'Internal: statement trigger on the catalog tables that makes every backend reload the metric catalog.';
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON analytics.metrics_user
    FOR EACH STATEMENT EXECUTE FUNCTION analytics._catalog_changed();
CREATE TRIGGER catalog_changed AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON analytics.metrics_builtin
    FOR EACH STATEMENT EXECUTE FUNCTION analytics._catalog_changed();
COMMENT ON FUNCTION analytics._catalog_invalidate(oid) IS 'Internal: sends a relcache invalidation for a catalog table so that every backend reloads the metric catalog.';
