-- in_regions(path, regions): whether path lies inside (or is) one of
-- regions, the ltree paths (as text) of the regions a caller may see. The
-- one way the services filter rows by jurisdiction (postgres: ltreePaths
-- builds the argument). A plain SQL function, which the planner inlines, so
-- the filter is `path <@ regions::ltree[]` over the GiST indexes of the
-- paths, as before.
CREATE FUNCTION in_regions(path ltree, regions text[]) RETURNS boolean
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$ SELECT path <@ regions::ltree[] $$;
