-- The search index (search_text, FTS5; 0006, 0011) merges its segments 16 at a time
-- rather than FTS5's default 4. A merge runs inside the index batch's commit on the
-- store's one connection, so every chat's next write waits for it. Measured on a
-- database of 200 000 indexed lines, 200 batches of 200 lines: merge work 5.4 s -> 2.5 s,
-- batches slower than 20 ms 34 -> 11 (each still up to ~200 ms). The price: a search
-- looks in up to 15 segments per level instead of 3, over fewer levels. crisismerge
-- (merge everything at once when a level has this many segments; default 16) must stay
-- above it.
INSERT INTO search_text (search_text, rank) VALUES ('automerge', 16);
INSERT INTO search_text (search_text, rank) VALUES ('crisismerge', 64);
