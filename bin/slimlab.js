#!/usr/bin/env node
'use strict';
// The CLI is compiled TypeScript: `npm run build` writes dist/cli/main.js.
require('../dist/cli/main.js').runAsProcess();
