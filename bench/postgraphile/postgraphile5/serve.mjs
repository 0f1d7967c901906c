// PostGraphile 5 (the Amber preset, read-only, with the connection-filter plugin's `filter:`
// arguments) over DATABASE_URL's `public` schema, one process, on PEER_HOST:PEER_PORT at
// /graphql. Started by bench/peers.py from its install directory.
import { createServer } from "node:http";
import { postgraphile } from "postgraphile";
import { PostGraphileAmberPreset } from "postgraphile/presets/amber";
import { makePgService } from "postgraphile/adaptors/pg";
import { grafserv } from "postgraphile/grafserv/node";
import { PostGraphileConnectionFilterPreset } from "postgraphile-plugin-connection-filter";

const host = process.env.PEER_HOST;
const port = Number(process.env.PEER_PORT);
const preset = {
  extends: [PostGraphileAmberPreset, PostGraphileConnectionFilterPreset],
  // The bench only reads: no create, update or delete mutations in the schema. Every column
  // filterable, as PostGraphile 4 does by default (`ignoreIndexes`): `search` filters on
  // columns no index has (valid_through, open_reports).
  disablePlugins: [
    "PgMutationCreatePlugin",
    "PgMutationUpdateDeletePlugin",
    "PgIndexBehaviorsPlugin",
  ],
  pgServices: [makePgService({ connectionString: process.env.DATABASE_URL, schemas: ["public"] })],
  grafserv: { graphiql: false },
};

const server = createServer();
server.on("error", (error) => {
  console.error(error);
  process.exit(1);
});
await postgraphile(preset).createServ(grafserv).addTo(server);
server.listen(port, host, () => console.log(`PostGraphile 5 on http://${host}:${port}/graphql`));
