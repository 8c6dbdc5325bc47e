/** How often the servers window brings "2 min ago" up to date. */
export const CLOCK_MS = 30_000;
