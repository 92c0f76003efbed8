// Vite 7's dev server pre-bundles dependencies into node_modules/.vite/deps/, away from the
// package's .wasm, and init() then fails (issue 13, item 1). Until the package handles that,
// the dev server must serve it as it is; production builds need nothing.
export default {
  optimizeDeps: { exclude: ['voice-end-call', 'voice-end-call/react'] },
};
