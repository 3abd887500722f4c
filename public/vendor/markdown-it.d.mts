// Types of /assets/vendor/markdown-it.mjs, which the build copies from markdown-it's browser build.
export { default } from 'markdown-it';
