// Read by @sveltejs/vite-plugin-svelte and svelte-check.
export default {
  // Runes everywhere ($state, $derived, $props): no legacy `export let` or `$:`.
  compilerOptions: { runes: true },
};
