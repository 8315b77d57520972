DROP FUNCTION in_regions(ltree, text[]);
