#!/usr/bin/env node
console.log('joind: skeleton');
