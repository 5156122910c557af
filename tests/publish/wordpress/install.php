<?php
/* Install the test WordPress from the command line: php install.php DOCROOT ROOT PORT plain|pretty.
 * Writes ROOT/editor.pw and ROOT/reader.pw (application passwords, mode 0600). */
[$self, $doc, $root, $port, $permalinks] = $argv;
$_SERVER['HTTP_HOST'] = "127.0.0.1:$port";
$_SERVER['SERVER_NAME'] = '127.0.0.1';
$_SERVER['REQUEST_URI'] = '/';
define('WP_INSTALLING', true);
require $doc . '/wp-load.php';
require_once ABSPATH . 'wp-admin/includes/upgrade.php';
/* wp_install() probes the site over HTTP to decide on pretty permalinks; the
 * server is not running yet, so answer the probe here (the mu-plugin refuses
 * all other requests). */
add_filter('pre_http_request', function () {
    return array('headers' => array(), 'body' => '', 'response' => array('code' => 200, 'message' => 'OK'),
                 'cookies' => array(), 'filename' => null);
}, 1);
$r = wp_install('chatkeeper test blog', 'admin', 'admin@example.invalid', false, '', wp_generate_password(24));
if (is_wp_error($r)) { fwrite(STDERR, $r->get_error_message() . "\n"); exit(1); }
// No sample content: the tests count posts.
foreach (get_posts(array('post_type' => array('post', 'page'), 'post_status' => 'any', 'numberposts' => -1)) as $p) {
    wp_delete_post($p->ID, true);
}
update_option('permalink_structure', $permalinks === 'pretty' ? '/%year%/%monthnum%/%postname%/' : '');
flush_rewrite_rules(true);
foreach (array('editor' => 'editor', 'reader' => 'subscriber') as $login => $role) {
    $id = wp_create_user($login, wp_generate_password(24), "$login@example.invalid");
    if (is_wp_error($id)) { fwrite(STDERR, $id->get_error_message() . "\n"); exit(1); }
    (new WP_User($id))->set_role($role);
    $made = WP_Application_Passwords::create_new_application_password($id, array('name' => 'chatkeeper tests'));
    if (is_wp_error($made)) { fwrite(STDERR, $made->get_error_message() . "\n"); exit(1); }
    $f = "$root/$login.pw";
    touch($f);
    chmod($f, 0600);
    file_put_contents($f, $made[0]);
}
echo "installed\n";
