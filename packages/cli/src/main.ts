#!/usr/bin/env node
console.log("infermarket");
