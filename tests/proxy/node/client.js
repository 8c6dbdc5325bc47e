// The Node MLflow client (npm `mlflow`) logs a run through an MLflow Login proxy:
//   node client.js TRACKING_URI      prints the run id
// The client is given the tracking URI only: no header, no credential.
const MLflow = require("mlflow");

(async () => {
  const client = new MLflow({ endpoint: process.argv[2] });
  const { Experiments, Runs } = client;
  const name = `node-${process.pid}-${Date.now()}`;
  const { experiment_id } = await Experiments.create({ name });
  const { run } = await Runs.create({ experiment_id, start_time: Date.now() });
  const run_id = run.info.run_id;
  await Runs.logParameter({ run_id, key: "client", value: "node" });
  await Runs.logMetric({ run_id, key: "m", value: 1.5, timestamp: Date.now(), step: 0 });
  const { run: got } = await Runs.get({ run_id });
  const metric = (got.data.metrics || []).find((m) => m.key === "m");
  if (!metric || metric.value !== 1.5) throw new Error(`the metric did not arrive: ${JSON.stringify(got.data)}`);
  process.stderr.write(`run ${run_id} logged\n`);
})().catch((e) => {
  process.stderr.write(`${e}\n`);
  process.exit(1);
});
