import { config } from 'zod/mini';
import { en } from 'zod/locales';

/**
 * Imported for its effect by the Lambda code that validates with `zod/mini`, zod's tree-shakable API (the same package and
 * validation core as `zod`, with functions in place of chained methods; about 15 KB of a bundle against about 90 KB).
 * `zod/mini` loads no messages of its own; this gives it zod's English ones, so an issue reads "Invalid URL", not
 * "Invalid input". Each module imports `* as z from 'zod/mini'` itself: re-exporting that namespace from here would
 * make esbuild keep all of it (every locale included).
 */
config(en());
