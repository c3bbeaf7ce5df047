/** What every chromium-* backend says when it cannot run. */
export const CHROMIUM_INSTALL_HINT =
  "Browser backends need Debian's chromium: apt-get install -y chromium (or `npm run setup` as root), or set KERAS_BRIDGE_CHROMIUM to a Chromium binary.";
