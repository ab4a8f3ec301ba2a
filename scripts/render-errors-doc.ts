// Prints docs/errors.md from the error catalogue: npx tsx scripts/render-errors-doc.ts > docs/errors.md
import { renderErrorsMarkdown } from '../src/platform/http/errors-doc.js';

process.stdout.write(renderErrorsMarkdown());
