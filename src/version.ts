// Kept in code, not read from package.json at run time: the single-file binary has no package.json.
export const VERSION = '0.1.0';
