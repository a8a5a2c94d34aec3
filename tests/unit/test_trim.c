/* placeholder: fails until the real tests land */
int main(void) { return 1; }
