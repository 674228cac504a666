// Characters no user name may hold, whatever the Authenticator's own rules: names end up in URLs, headers, environment
// variables, file names, log lines and pages, where invisible or direction-changing characters let one name pass for
// another ("admin\u200b", "\u202etxt.exe") and unpaired surrogates cannot be written as UTF-8 at all.

/** Why `name` can never be a user name, or null when these rules allow it. */
export function forbiddenNameChars(name: string): string | null {
  if (/\p{Cc}/u.test(name)) return 'user names may not contain control characters';
  // Category Cf: bidi overrides and isolates (U+202A..U+202E, U+2066..U+2069), zero-width characters (U+200B..U+200F,
  // U+2060..U+2064), the byte order mark U+FEFF, soft hyphen, and the rest of the format characters.
  if (/\p{Cf}/u.test(name)) return 'user names may not contain invisible formatting characters (Unicode category Cf, such as bidi overrides or zero-width characters)';
  if (!name.isWellFormed()) return 'user names may not contain unpaired surrogates';
  // What a decoder leaves for bytes that were not UTF-8 (or for a surrogate it could not encode).
  if (name.includes('\ufffd')) return 'user names may not contain U+FFFD (invalid UTF-8 or an unpaired surrogate in the request)';
  return null;
}
