// Types of /assets/vendor/emoji-picker/picker.js, which the build copies from emoji-picker-element.
export { default } from 'emoji-picker-element/picker';
