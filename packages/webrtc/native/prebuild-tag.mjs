// The name of this platform's prebuild directory (prebuilds/<tag>/dragon-fanout.node), as
// node-gyp-build names them: platform, architecture and, on Linux, the C library (a glibc build
// does not load on musl). src/fanout/native-addon.ts derives the same name at run time.
export function prebuildTag() {
  if (process.platform !== 'linux') return `${process.platform}-${process.arch}`;
  // Without the network part, the report takes milliseconds instead of tens of them.
  const excludeNetwork = process.report.excludeNetwork;
  process.report.excludeNetwork = true;
  try {
    const glibc = process.report.getReport().header.glibcVersionRuntime;
    return `${process.platform}-${process.arch}-${glibc ? 'glibc' : 'musl'}`;
  } finally {
    process.report.excludeNetwork = excludeNetwork;
  }
}
