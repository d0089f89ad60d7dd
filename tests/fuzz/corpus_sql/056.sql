-- A lone CREATE INDEX CONCURRENTLY: Prisma sends the file as one simple query, so this works.
CREATE INDEX CONCURRENTLY "Post_authorId_idx" ON "Post"("authorId");
