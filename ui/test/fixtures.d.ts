declare const fixtures: unknown;
export default fixtures;
