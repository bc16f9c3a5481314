-- A presigned upload may announce the most bytes it will send rather than
-- its exact size (clients that PUT a file of a size they did not say): 1
-- when declared_size is that limit, 0 when it is the exact size.
ALTER TABLE presigned_uploads ADD COLUMN size_is_limit BIGINT NOT NULL DEFAULT 0;
