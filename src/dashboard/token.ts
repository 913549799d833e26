/**
 * The page's token, when the daemon runs with auth on: kept in session storage (gone when the tab closes,
 * never in a URL or a cookie), asked for in a dialog when the daemon refuses the page without one.
 */
import { byId, setText } from "./dom.js";

const KEY = "tickring.token";

/** The token in session storage. */
export const tokenStore = {
  get(): string | undefined {
    return sessionStorage.getItem(KEY) ?? undefined;
  },
  set(token: string | undefined): void {
    if (token === undefined) sessionStorage.removeItem(KEY);
    else sessionStorage.setItem(KEY, token);
  },
};

/** The token dialog: `ask` opens it saying why; a token entered is stored and handed to `onToken`. */
export class TokenPrompt {
  private readonly dialog = byId<HTMLDialogElement>("token-dialog");
  private readonly input = byId<HTMLInputElement>("token-input");

  constructor(onToken: () => void) {
    byId<HTMLFormElement>("token-form").addEventListener("submit", (e) => {
      e.preventDefault();
      const token = this.input.value.trim();
      if (token === "") return;
      tokenStore.set(token);
      this.input.value = "";
      this.dialog.close();
      onToken();
    });
    byId("token-forget").addEventListener("click", () => {
      tokenStore.set(undefined);
      this.input.value = "";
    });
    const button = byId("token-button");
    button.addEventListener("click", () => this.ask("Enter another token."));
  }

  /** Opens the dialog; `why` is the daemon's reason (a missing, bad or expired token). */
  ask(why: string): void {
    setText(byId("token-why"), why);
    byId("token-button").hidden = false;
    if (!this.dialog.open) this.dialog.showModal();
    this.input.focus();
  }
}
