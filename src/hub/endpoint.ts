// Where the Hugging Face Hub is: https://huggingface.co, unless a build was made with
// DEPASS_HUB_URL set (the browser tests point theirs at a local stand-in). Fixed at build time on
// purpose: nothing a user opens (a link, an address) can send the app's Hub traffic elsewhere.

declare const __DEPASS_HUB_URL__: string | undefined;

export const HUB_URL: string = (typeof __DEPASS_HUB_URL__ === 'string' && __DEPASS_HUB_URL__ ? __DEPASS_HUB_URL__ : 'https://huggingface.co').replace(
  /\/+$/,
  '',
);
